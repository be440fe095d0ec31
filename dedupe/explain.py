"""Why a match matched: the reasons `check`, the nightly report and the review queue show.

A reason is the best-aligned sentence pair of the two texts and the words they share (through
the English/French lexicon when they are in different languages); `dedupe.match.reasons`
computes it from sentence vectors, which the index keeps for every record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from dedupe.index.sentences import record_sentences
from dedupe.match.bilingual import shipped_lexicon
from dedupe.match.reasons import explain_aligned, shared_terms_many
from dedupe.records import Reason

if TYPE_CHECKING:
    from dedupe.detector import Detector
    from dedupe.match.retrieve import Candidates


def record_sentence_vectors(
    det: Detector, positions: Sequence[int]
) -> list[tuple[list[str], np.ndarray]]:
    """(sentences, vectors) of indexed records: read from the index, or encoded (and kept in
    the detector's LRU) for an index written before sentence vectors."""
    store = det.sentence_vectors
    split = [record_sentences(det.record_text(pos)) for pos in positions]
    missing = [
        n
        for n, (pos, sents) in enumerate(zip(positions, split, strict=True))
        if store is None or store.count(pos) != len(sents)
    ]
    flat = [x for n in missing for x in split[n]]
    fresh = det.sentences.encode(flat) if flat else np.zeros((0, det.encoder.dim))
    vecs: dict[int, np.ndarray] = {}
    at = 0
    for n in missing:
        vecs[n] = fresh[at : at + len(split[n])]
        at += len(split[n])
    out = []
    for n, (pos, sents) in enumerate(zip(positions, split, strict=True)):
        v = vecs.get(n)
        if v is None:
            assert store is not None  # not missing: the index holds them
            v = store.of(pos)
        out.append((sents, v))
    return out


def explain_rows(det: Detector, pairs: Sequence[tuple[int, int]]) -> list[Reason]:
    """Reasons for pairs of indexed records (rows), from their stored sentence vectors."""
    rows = list(dict.fromkeys(p for pair in pairs for p in pair))
    got = dict(zip(rows, record_sentence_vectors(det, rows), strict=True))
    langs = det.column("language")
    lexicon = shipped_lexicon()
    out = []
    for a, b in pairs:
        (sa, va), (sb, vb) = got[a], got[b]
        text_a, text_b = det.record_text(a), det.record_text(b)
        terms = shared_terms_many(
            text_a,
            [text_b],
            det.lexical,
            lexicon=lexicon,
            query_language=str(langs[a]),
            languages=[str(langs[b])],
        )
        out += explain_aligned(text_a, sa, va, [text_b], [sb], [vb], det.lexical, terms=terms)
    return out


def explain_query(det: Detector, cands: Candidates, positions: Sequence[int]) -> list[Reason]:
    """Reasons for a proposal's candidates at `positions`."""
    # The records' side and the shared terms first: the query's sentences may still be
    # encoding on the detector's worker thread.
    got = record_sentence_vectors(det, positions)
    texts = [det.record_text(p) for p in positions]
    terms = shared_terms_many(
        cands.query_text,
        texts,
        det.lexical,
        lexicon=shipped_lexicon(),
        query_language=cands.language,
        languages=det.column("language")[list(positions)].tolist(),
    )
    q_vecs = cands.query_sentence_vectors
    if q_vecs is None:
        q_vecs = det.encoder.encode(list(cands.query_sentences))
    return explain_aligned(
        cands.query_text,
        cands.query_sentences,
        q_vecs,
        texts,
        [s for s, _ in got],
        [v for _, v in got],
        det.lexical,
        terms=terms,
    )
