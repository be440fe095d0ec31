"""The all-pairs candidate stage: k nearest neighbours per record, as unique pairs."""

from __future__ import annotations

import numpy as np

from dedupe.index.store import knn_all


def candidate_pairs(vectors: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each record's k nearest others (`knn_all`: exact FAISS search below 20k records,
    clustered blocked search above), as unique pairs.

    Returns (a, b, similarity) with a < b (positions), one row per unordered pair.
    """
    n = len(vectors)
    if n < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    sims, pos = knn_all(vectors, k)
    return unique_pairs(sims, pos)


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
