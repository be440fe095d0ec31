"""Incremental all-pairs kNN: keep the last run's neighbour lists beside the index, redo the rest.

`Detector.pairs()` needs every record's k nearest others. A nightly re-ingest changes ~1% of the
records, so most lists are still right: `cached_knn` reads the previous lists (`knn-cache.npz`,
keyed by a 64-bit hash of record id + text hash and a fingerprint of the vector, not by
generation) and

- searches afresh for the added / changed records, and for every kept record one of whose
  neighbours was removed or changed (its list lost a member);
- for every other kept record, merges its old list with its similarities to the added /
  changed records (its top k among the kept records cannot have changed).

Below `exact_below` records (where `knn_all` is exact) the result equals a full recompute, up
to the order of exact ties. From there the full run is the approximate clustered search and the
incremental one is exact for every row it touches (so at least as good).
"""

from __future__ import annotations

import logging
from hashlib import blake2b
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from dedupe.csvsafe import atomic_path
from dedupe.index.allpairs import EXACT_BELOW, _drop_self, knn_all

log = logging.getLogger(__name__)

KNN_CACHE = "knn-cache.npz"
FULL_ABOVE = 0.25  # share of rows to redo above which a full run is cheaper
_BLOCK = 8192


def fingerprint(vectors: np.ndarray) -> np.ndarray:
    """One float per row: a fixed random projection (detects a vector that changed under the
    same text hash, e.g. an index rebuilt with other vectors)."""
    dim = vectors.shape[1]
    w = np.random.default_rng(20261125).standard_normal(dim, dtype=np.float32)
    out = np.empty(len(vectors), dtype=np.float32)
    for s in range(0, len(vectors), 65_536):
        out[s : s + 65_536] = np.asarray(vectors[s : s + 65_536], dtype=np.float32) @ w
    return out


def key_hashes(keys: list[str]) -> np.ndarray:
    """64-bit hashes of the row keys (what the cache stores: 8 bytes a record, not the keys)."""
    return np.fromiter(
        (int.from_bytes(blake2b(k.encode(), digest_size=8).digest(), "little") for k in keys),
        dtype=np.uint64,
        count=len(keys),
    )


def _read(path: Path) -> dict[str, Any] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, KeyError):
        return None


def _write(path: Path, **arrays: np.ndarray) -> None:
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
    except OSError as exc:  # a read-only index: the next run is a full one, nothing breaks
        log.warning("could not write the kNN cache %s (%s)", path, exc)


def cached_knn(
    folder: str | Path,
    vectors: np.ndarray,
    keys: list[str],
    k: int,
    *,
    model_id: str,
    exact_below: int = EXACT_BELOW,
) -> tuple[np.ndarray, np.ndarray, int]:
    """(similarities, positions, rows searched) like `knn_all(vectors, k)`, reusing the lists
    saved by the previous call in `folder` for the rows whose key and vector are unchanged.

    `keys`: one string per row (id + text hash), unique. Writes the new lists back.
    """
    path = Path(folder) / KNN_CACHE
    n = len(vectors)
    k_eff = max(1, min(k, n - 1)) if n > 1 else 1
    fp = fingerprint(vectors)
    hashed = key_hashes(keys)
    old = _read(path)
    result: tuple[np.ndarray, np.ndarray] | None = None
    redo = n
    exact = n < exact_below
    if old is not None and _compatible(old, model_id, k_eff, vectors.shape[1], exact) and n > 1:
        result, redo = _update(old, vectors, hashed, fp, k_eff)
    if result is None:
        result = knn_all(vectors, k_eff, exact_below=exact_below)
        redo = n
    sims, pos = result
    _write(
        path,
        keys=hashed,
        fp=fp,
        sims=sims.astype(np.float32),
        pos=pos.astype(np.int64),
        k=np.asarray(k_eff),
        dim=np.asarray(vectors.shape[1]),
        exact=np.asarray(exact),
        model_id=np.asarray(model_id),
    )
    return sims, pos, redo


def _compatible(old: dict[str, Any], model_id: str, k: int, dim: int, exact: bool) -> bool:
    """Same model, k and width, and lists as exact as asked (an approximate run's lists are not
    reused by an exact one, nor the other way round)."""
    return (
        str(old.get("model_id", "")) == model_id
        and int(old.get("k", -1)) == k
        and int(old.get("dim", -1)) == dim
        and "exact" in old
        and bool(old["exact"]) == exact
        and {"keys", "fp", "sims", "pos"} <= set(old)
    )


def _update(
    old: dict[str, Any], vectors: np.ndarray, keys: np.ndarray, fp: np.ndarray, k: int
) -> tuple[tuple[np.ndarray, np.ndarray] | None, int]:
    n = len(vectors)
    if old["keys"].dtype != np.uint64:
        return None, n
    new_pos = {key: i for i, key in enumerate(keys.tolist())}
    old_keys = old["keys"].tolist()
    old_fp, old_s, old_p = old["fp"], old["sims"], old["pos"]
    # old row -> new row (-1: removed, or changed text / vector)
    to_new = np.full(len(old_keys) + 1, -1, dtype=np.int64)  # last slot: padding (-1) maps to -1
    for j, key in enumerate(old_keys):
        i = new_pos.get(key, -1)
        if i >= 0 and abs(float(fp[i]) - float(old_fp[j])) <= 1e-4:
            to_new[j] = i
    kept_old = np.nonzero(to_new[:-1] >= 0)[0]
    kept_new = to_new[kept_old]
    is_kept = np.zeros(n, dtype=bool)
    is_kept[kept_new] = True
    fresh = np.nonzero(~is_kept)[0]  # added or changed rows
    # Old lists in new positions; a member that is gone marks the row stale.
    mapped = to_new[np.where(old_p[kept_old] >= 0, old_p[kept_old], len(old_keys))]
    lost = ((old_p[kept_old] >= 0) & (mapped < 0)).any(axis=1)
    stale = kept_new[lost]
    redo = np.union1d(fresh, stale)
    if len(redo) > FULL_ABOVE * n:
        return None, n
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    sims = np.full((n, k), -np.inf, dtype=np.float32)
    pos = np.full((n, k), -1, dtype=np.int64)
    ok = ~lost
    rows, o_s, o_p = kept_new[ok], old_s[kept_old[ok], :k], mapped[ok, :k]
    if len(fresh):  # merge each untouched list with its nearest fresh rows
        kf = min(k, len(fresh))
        for s in range(0, len(rows), _BLOCK):
            r = rows[s : s + _BLOCK]
            f_s, f_l = faiss.knn(x[r], x[fresh], kf, metric=faiss.METRIC_INNER_PRODUCT)
            cand_s = np.hstack([o_s[s : s + _BLOCK], f_s])
            cand_p = np.hstack([o_p[s : s + _BLOCK], np.where(f_l >= 0, fresh[f_l], -1)])
            cand_s = np.where(cand_p >= 0, cand_s, -np.inf)
            top = np.argsort(-cand_s, axis=1, kind="stable")[:, :k]
            sims[r] = np.take_along_axis(cand_s, top, axis=1)
            pos[r] = np.take_along_axis(cand_p, top, axis=1)
    else:
        sims[rows], pos[rows] = o_s, o_p
    for s in range(0, len(redo), _BLOCK):  # full search for new, changed and stale rows
        r = redo[s : s + _BLOCK]
        r_s, r_p = faiss.knn(x[r], x, min(k + 1, n), metric=faiss.METRIC_INNER_PRODUCT)
        r_s, r_p = _drop_self_at(r_s, r_p, r, k)
        sims[r], pos[r] = r_s, r_p
    pos[~np.isfinite(sims)] = -1
    log.info("kNN: %d of %d rows searched again, %d merged", len(redo), n, len(rows))
    return (sims, pos), len(redo)


def _drop_self_at(
    sims: np.ndarray, pos: np.ndarray, rows: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """`_drop_self` for a search of rows `rows` (not 0..m-1), padded to k columns."""
    if pos.shape[1] < k + 1:
        pad = k + 1 - pos.shape[1]
        sims = np.hstack([sims, np.full((len(sims), pad), -np.inf, dtype=sims.dtype)])
        pos = np.hstack([pos, np.full((len(pos), pad), -1, dtype=pos.dtype)])
    return _drop_self(sims, pos, k, rows)
