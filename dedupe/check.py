"""`check`: a proposal's candidates, their calibrated probabilities, reasons and owners.

`Detector.check` is `check_proposal` and `Detector.candidates` is `find_candidates` (as
`Detector.pairs` is `dedupe.pairs.find_pairs`): the search, the features and the ranking of one
proposal against the index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np

from dedupe import explain
from dedupe.departments import same_department
from dedupe.index.sentences import record_sentences
from dedupe.match.owners import owners_of, rank_owners
from dedupe.match.retrieve import Candidates, retrieve
from dedupe.proposals import titles_named_in
from dedupe.records import CheckResult, Match, Proposal, pair_key
from dedupe.text import LazyTexts, detect_language

if TYPE_CHECKING:
    from dedupe.detector import Detector


def check_proposal(
    det: Detector,
    proposal: Proposal,
    *,
    limit: int = 10,
    candidates: int = 50,
    include_below: bool = False,
    closest_when_clear: bool = False,
    decisions: Mapping[tuple[str, str], str] | None = None,
) -> CheckResult:
    """Rank the indexed initiatives a proposal likely duplicates or overlaps.

    `include_below`: `below` holds up to `limit` candidates under the bar; else, with
    `closest_when_clear`, the closest one when nothing is over it (a near miss to name)."""
    if len(det.index) == 0 or not proposal.text.strip():
        return CheckResult(proposal=proposal, matches=(), owners=())
    cands = find_candidates(det, proposal, candidates)
    positions = cands.positions
    sim_of = dict(zip(positions, (float(d) for d in cands.dense), strict=True))
    probs = det.params.probability(cands.features)
    order = np.argsort(-probs, kind="stable")
    shown = [int(i) for i in order if probs[i] >= det.params.overlap_at][:limit]
    n_below = limit if include_below else int(closest_when_clear and not shown)
    below_idx = [int(i) for i in order if probs[i] < det.params.overlap_at][:n_below]
    explained = [positions[i] for i in shown + below_idx]
    det.fetch(explained)
    if explained:
        reasons = explain.explain_query(det, cands, explained)
    else:  # nothing to explain: the query's sentences are not needed
        reasons = []
        if isinstance(cands.sentence_vectors, Future):
            cands.sentence_vectors.cancel()
    decisions = decisions or {}

    def make(i: int, reason_i: int) -> Match:
        r = det.record(positions[i])
        p = float(probs[i])
        return Match(
            id=r.id,
            title=r.title,
            department=r.department,
            score=p,
            tier=det.params.tier(p),
            reason=reasons[reason_i],
            owners=owners_of(r),
            same_department=same_department(proposal.department, r.department),
            similarity=sim_of[positions[i]],
            decision=decisions.get(pair_key(proposal.id, r.id), ""),
        )

    matches = tuple(make(i, n) for n, i in enumerate(shown))
    below = tuple(make(i, len(shown) + n) for n, i in enumerate(below_idx))
    return CheckResult(proposal=proposal, matches=matches, owners=rank_owners(matches), below=below)


def find_candidates(
    det: Detector,
    proposal: Proposal,
    k: int = 50,
    features: Sequence[str] | None = None,
    lexical_k: int = 20,
    title_k: int = 5,
) -> Candidates:
    """The proposal's k nearest indexed records (dense search), plus up to `lexical_k` more
    nearest by TF-IDF and `title_k` more nearest by its title's words, and their pair
    features.

    An indexed initiative checked again (same id) is left out of its own candidates.
    """
    query_text = det.clean_text(
        proposal.title, proposal.description, department=proposal.department
    )
    # The query and its sentences in one encoder call (the sentences serve the reasons).
    qvec = det.encoder.encode([query_text])
    # The query's sentences (for the reasons) are encoded on a second thread while this one
    # searches and computes features: the encoder's numpy work releases the GIL, and the two
    # overlap on 2 cores (warm check p50 at 100k: 16.4 -> 13.2-14.2 ms in-process).
    q_sents = record_sentences(query_text)
    pending = det.encode_worker().submit(det.encoder.encode, q_sents) if q_sents else None
    positions, dense, qrow = retrieve(
        det.index,
        det.lexical,
        det.column("id"),
        qvec,
        query_text,
        proposal.title,
        exclude_id=proposal.id,
        k=k,
        lexical_k=lexical_k,
        title_k=title_k,
    )
    n = len(positions)
    language = proposal.language or detect_language(query_text)
    # The records' side of the lexical features comes precomputed with the TF-IDF model
    # (rows fitted on the same stripped texts): no re-transform of 50-70 candidate texts.
    lex = det.lexical
    own = lex.matrix is not None and lex.matrix.shape[0] == len(det.index)
    rows_b = lex.matrix[positions] if own and lex.matrix is not None else None
    ntok_b = (
        lex.n_tokens[positions]
        if own and lex.n_tokens is not None and len(lex.n_tokens) == len(det.index)
        else None
    )
    titles_b = det.column("title")[positions].tolist()
    x = det.pair_features(
        [query_text] * n,
        LazyTexts(det.record_text, positions),  # read only where an input is missing
        [proposal.title] * n if proposal.title else titles_named_in(query_text, titles_b),
        titles_b,
        [proposal.department] * n,
        det.column("department")[positions].tolist(),
        det.dense_feature(dense, qvec, np.asarray(positions, dtype=np.int64)),
        langs_a=[language] * n,
        langs_b=det.column("language")[positions].tolist(),
        features=features,
        rows_a=qrow,
        rows_b=rows_b,
        ntok_b=ntok_b,
        title_rows_b=det.title_rows(positions),
    )
    return Candidates(query_text, positions, dense, x, tuple(q_sents), pending, language)
