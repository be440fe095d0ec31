"""The all-pairs candidate stage: k nearest neighbours per record, as unique pairs.

Below `EXACT_BELOW` records the search is exact (one FAISS product). From there it is a
clustered search with soft assignment: k-means (FAISS) partitions the vectors into
`n_clusters(n)` cells of ~`CLUSTER_SIZE` records, every record joins its `SPREAD` nearest
cells, and within each cell every member is compared with every other member as one block
product (int8 through onnxruntime, `dedupe.index.int8knn`; the neighbours kept are re-scored
in float32). Two records are compared when they share a cell, so a neighbour is missed only if
none of the cells nearest one record is among those nearest the other. The cost is
~SPREAD² × CLUSTER_SIZE products a record instead of n.

Measured (benchmarks/bench_allpairs.py; recall: share of the exact top-10 pairs found):
real 15k, 0.980 of the pairs at cosine >= 0.5 and 0.996 at >= 0.7 in 0.47 s (exact 1.3 s,
`paraphrase_mining` 2.8 s); synthetic 100k, 0.985 / 0.998 in 4.9 s (82 s). Hard assignment (each
cell against the cells nearest its centroid) found 0.918 / 0.967 at 100k. docs/scaling.md ³.
"""

from __future__ import annotations

import sys

import faiss
import numpy as np

from dedupe.index.int8knn import Int8Vectors

EXACT_BELOW = 10_000  # below: one exact product (the clustered search would cost > 1/3 of it)
SPREAD = 4  # clusters each record joins
CLUSTER_SIZE = 150  # records a cluster (before spreading)
_MERGE_ROWS = 2048  # rows merged (and re-scored) at a time


def candidate_pairs(
    vectors: np.ndarray, k: int = 10, *, exact: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each record's k nearest others (`knn_all`; `exact`: at any size), as unique pairs.

    Returns (a, b, similarity) with a < b (positions), one row per unordered pair.
    """
    n = len(vectors)
    if n < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    sims, pos = knn_all(vectors, k, exact_below=exact_limit(exact))
    return unique_pairs(sims, pos)


def exact_limit(exact: bool) -> int:
    """`knn_all`'s `exact_below` for a caller that wants exact lists at any size, or not."""
    return sys.maxsize if exact else EXACT_BELOW


def unique_pairs(sims: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """kNN lists (n, k) as unique pairs (a, b, similarity) with a < b (see `candidate_pairs`)."""
    n = len(pos)
    rows = np.repeat(np.arange(n, dtype=np.int64), pos.shape[1])
    cols, flat_s = pos.ravel(), sims.ravel()
    ok = cols >= 0
    a, b = np.minimum(rows[ok], cols[ok]), np.maximum(rows[ok], cols[ok])
    _, first = np.unique(a * n + b, return_index=True)
    first.sort()
    return a[first], b[first], flat_s[ok][first].astype(np.float32)


def n_clusters(n: int) -> int:
    """Clusters for the clustered search of n records: ~CLUSTER_SIZE records each, at most
    2·sqrt(n) (k-means costs n × clusters)."""
    return max(8, min(n // CLUSTER_SIZE, int(2 * np.sqrt(n))))


def knn_all(
    vectors: np.ndarray,
    k: int,
    *,
    exact_below: int = EXACT_BELOW,
    spread: int = SPREAD,
    quantized: bool = True,
    seed: int = 1234,
) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, positions) of every record's k nearest other records (all-pairs stage).

    Exact below `exact_below` records, else the clustered search of the module docstring
    (`spread` >= the number of clusters makes it exact too). Padding: position -1, similarity
    -inf. A record is never its own neighbour.
    """
    n, dim = vectors.shape
    k = max(1, min(k, n - 1)) if n > 1 else 1
    if n < 2:
        return np.full((n, k), -np.inf, dtype=np.float32), np.full((n, k), -1, dtype=np.int64)
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if n < exact_below:
        flat = faiss.IndexFlatIP(dim)
        flat.add(x)
        sims, pos = flat.search(x, k + 1)
        return _drop_self(sims, pos, k)
    nlist = n_clusters(n)
    spread = max(1, min(spread, nlist))
    km = faiss.Kmeans(dim, nlist, niter=10, seed=seed, spherical=True, max_points_per_centroid=64)
    km.train(x)
    _, assign = km.index.search(x, spread)
    slots = assign.ravel()
    order = np.argsort(slots, kind="stable")
    bounds = np.searchsorted(slots[order], np.arange(nlist + 1))
    record_of, rank_of = order // spread, order % spread
    # each record's list from each of its clusters, merged once at the end
    kk = k + 1
    buf_s = np.full((n, spread, kk), -np.inf, dtype=np.float32)
    buf_p = np.full((n, spread, kk), -1, dtype=np.int32)
    int8 = Int8Vectors(x, faiss.omp_get_max_threads()) if quantized else None
    for c in range(nlist):
        members = record_of[bounds[c] : bounds[c + 1]]
        if len(members) < 2:
            continue
        found = min(kk, len(members))
        if int8 is not None:
            sims, local = int8.knn(members, found)
        else:
            xm = x[members]
            sims, local = faiss.knn(xm, xm, found, metric=faiss.METRIC_INNER_PRODUCT)
        ranks = rank_of[bounds[c] : bounds[c + 1]]
        buf_s[members, ranks, :found] = sims
        buf_p[members, ranks, :found] = np.where(local >= 0, members[np.maximum(local, 0)], -1)
    out_s = np.empty((n, k), dtype=np.float32)
    out_p = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, _MERGE_ROWS):  # blocks: the re-score gathers rows × k × dim floats
        rows = np.arange(start, min(n, start + _MERGE_ROWS))
        out_s[rows], out_p[rows] = _best_unique(
            buf_s[rows].reshape(len(rows), -1), buf_p[rows].reshape(len(rows), -1), rows, k
        )
        if int8 is not None:  # the int8 products chose the neighbours; report exact cosines
            out_s[rows], out_p[rows] = _rescore(x, rows, out_p[rows])
    return out_s, out_p


def _rescore(x: np.ndarray, rows: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float32 similarities of rows to their listed neighbours, best first (padding stays last)."""
    sims = np.einsum("nd,nkd->nk", x[rows], x[np.maximum(pos, 0)])
    sims[pos < 0] = -np.inf
    order = np.argsort(-sims, axis=1, kind="stable")
    return np.take_along_axis(sims, order, axis=1), np.take_along_axis(pos, order, axis=1)


def _best_unique(
    sims: np.ndarray, pos: np.ndarray, rows: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k best neighbours among candidates found in several clusters: the row itself
    and a neighbour already listed (a pair compared in two shared clusters) count once."""
    by_pos = np.argsort(pos, axis=1, kind="stable")
    pos = np.take_along_axis(pos, by_pos, axis=1).astype(np.int64)
    sims = np.take_along_axis(sims, by_pos, axis=1)
    drop = (pos < 0) | (pos == rows[:, None])
    drop[:, 1:] |= pos[:, 1:] == pos[:, :-1]
    sims[drop] = -np.inf
    pos[drop] = -1
    top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, top, axis=1), np.take_along_axis(pos, top, axis=1)


def _drop_self(
    sims: np.ndarray, pos: np.ndarray, k: int, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Remove each row's own position from a (n, k+1) self-search, keep k columns.

    `rows`: the positions the rows were searched for (default 0..n-1)."""
    own = np.arange(pos.shape[0]) if rows is None else np.asarray(rows)
    keep = (pos != own[:, None]) & (pos >= 0)
    order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
    out_s = np.take_along_axis(sims, order, axis=1).astype(np.float32)
    out_p = np.take_along_axis(pos, order, axis=1).astype(np.int64)
    kept = np.take_along_axis(keep, order, axis=1)
    out_s[~kept] = -np.inf
    out_p[~kept] = -1
    return out_s, out_p
