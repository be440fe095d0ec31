"""All pairs of a portfolio: k nearest neighbours per record, scored by the pair scorer.

`Detector.pairs` is `find_pairs`; the nightly report and the review queue call it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dedupe.departments import department_key
from dedupe.index.allpairs import candidate_pairs, exact_limit, unique_pairs
from dedupe.match.homonyms import homonym_senses
from dedupe.records import Pair, pair_key
from dedupe.text import LazyTexts

if TYPE_CHECKING:
    from dedupe.detector import Detector


def find_pairs(
    det: Detector,
    *,
    k: int = 10,
    min_score: float | None = None,
    incremental: bool = True,
    exact: bool = False,
) -> list[Pair]:
    """Every pair of indexed initiatives at or above `min_score` (default: the overlap bar).

    Candidates: k nearest neighbours per record (`candidate_pairs`: exact FAISS search below
    10k records, a clustered search above), then the pair scorer. `incremental`: the
    neighbour lists of the previous run (`knn-cache.npz` in the index) are reused for the
    records whose text did not change (`dedupe.index.knn_cache`; same result). `exact`: exact
    neighbour lists at any size (slower: ~1.3 s at 15k records instead of ~0.45 s).
    """
    n = len(det.index)
    if n < 2:
        return []
    floor = det.params.overlap_at if min_score is None else min_score
    if incremental:
        from dedupe.index.knn_cache import cached_knn

        frame = det.index.frame
        keys = [f"{i}\x1f{h}" for i, h in zip(frame["id"], frame["text_hash"], strict=True)]
        sims, pos, _ = cached_knn(
            det.path,
            det.index.vectors,
            keys,
            k,
            model_id=det.index.model_id,
            exact_below=exact_limit(exact),
        )
        a_arr, b_arr, sim_arr = unique_pairs(sims, pos)
    else:
        a_arr, b_arr, sim_arr = candidate_pairs(det.index.vectors, k, exact=exact)
    a_idx, b_idx = a_arr.tolist(), b_arr.tolist()
    dense = sim_arr.tolist()
    ids, depts = det.column("id"), det.column("department")
    probs = score_index_pairs(det, a_arr, b_arr, np.asarray(dense))
    dept_key = [department_key(str(d)) for d in depts]
    out = []
    for i, j, s, p in zip(a_idx, b_idx, dense, probs, strict=True):
        if p < floor:
            continue
        ida, idb = pair_key(ids[i], ids[j])
        out.append(
            Pair(
                id_a=ida,
                id_b=idb,
                score=float(p),
                tier=det.params.tier(float(p)),
                similarity=s,
                same_department=dept_key[i] == dept_key[j],
            )
        )
    out.sort(key=lambda p: -p.score)
    return out


def score_index_pairs(
    det: Detector, a_arr: np.ndarray, b_arr: np.ndarray, dense: np.ndarray
) -> np.ndarray:
    """Calibrated probabilities of pairs of indexed records (row positions `a_arr`, `b_arr`,
    their vectors' raw cosine `dense`), from the stored inputs: stripped texts, the index's own
    TF-IDF rows and token counts, titles, departments, languages and the acronym homonym check.
    The all-pairs stage and the nightly report's carry-over both score through here."""
    if len(a_arr) == 0:
        return np.zeros(0)
    n = len(det.index)
    a_idx, b_idx = a_arr.tolist(), b_arr.tolist()
    titles, depts, langs = (det.column(c) for c in ("title", "department", "language"))
    # The records' TF-IDF rows and token counts come with the lexical model (same values
    # as transforming the texts again, which was most of this stage's time); the stripped
    # texts are then only read where a record's language must be detected.
    lex = det.lexical
    own = lex.matrix is not None and lex.matrix.shape[0] == n
    have_ntok = own and lex.n_tokens is not None and len(lex.n_tokens) == n
    # Only two records giving an acronym two different meanings can make a homonym pair: the
    # others' stripped texts are not read for it.
    senses = det.acronym_senses()
    features = det.pair_features(
        LazyTexts(det.record_text, a_idx),
        LazyTexts(det.record_text, b_idx),
        titles[a_arr].tolist(),
        titles[b_arr].tolist(),
        depts[a_arr].tolist(),
        depts[b_arr].tolist(),
        det.dense_feature(np.asarray(dense, dtype=np.float64), a_arr, b_arr),
        langs_a=langs[a_arr].tolist(),
        langs_b=langs[b_arr].tolist(),
        rows_a=lex.matrix[a_arr] if own and lex.matrix is not None else None,
        rows_b=lex.matrix[b_arr] if own and lex.matrix is not None else None,
        ntok_a=lex.n_tokens[a_arr] if have_ntok and lex.n_tokens is not None else None,
        ntok_b=lex.n_tokens[b_arr] if have_ntok and lex.n_tokens is not None else None,
        maybe_homonyms=[
            homonym_senses(senses[i], senses[j]) for i, j in zip(a_idx, b_idx, strict=True)
        ],
    )
    return np.asarray(det.params.probability(features), dtype=np.float64)
