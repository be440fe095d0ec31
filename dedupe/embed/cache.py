"""Embeddings cached by (model id, content hash), so unchanged text is never encoded twice."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from dedupe.embed.encoder import Encoder
from dedupe.errors import EncoderError


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class EmbeddingCache:
    """SQLite table of vectors keyed by (model_id, sha256 of the text); writes are transactions."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=60)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model_id TEXT NOT NULL, hash TEXT NOT NULL, "
            "dim INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model_id, hash))"
        )
        self._conn.commit()

    def close(self) -> None:
        self._conn.close()

    def get_many(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT hash, dim, vector FROM vectors WHERE model_id=? AND hash IN ({marks})",
                (model_id, *chunk),
            ).fetchall()
            for h, dim, blob in rows:
                found[h] = np.frombuffer(blob, dtype=np.float32, count=dim)
        return found

    def known(self, model_id: str, hashes: Sequence[str]) -> set[str]:
        """Which of `hashes` the cache holds for `model_id` (no vectors are read)."""
        found: set[str] = set()
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT hash FROM vectors WHERE model_id=? AND hash IN ({marks})",
                (model_id, *chunk),
            ).fetchall()
            found.update(h for (h,) in rows)
        return found

    def put_many(self, model_id: str, items: dict[str, np.ndarray]) -> None:
        with self._conn:
            self._conn.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)",
                [
                    (model_id, h, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
                    for h, v in items.items()
                ],
            )

    def count(self, model_id: str | None = None) -> int:
        if model_id is None:
            row = self._conn.execute("SELECT COUNT(*) FROM vectors").fetchone()
        else:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM vectors WHERE model_id=?", (model_id,)
            ).fetchone()
        return int(row[0])


def embed_with_cache(
    encoder: Encoder,
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 512,
) -> tuple[np.ndarray, int]:
    """Vectors for `texts` (rows aligned), encoding only cache misses; returns (vectors, n_encoded).

    Identical texts are encoded once. Misses are encoded longest-last (similar lengths share a
    batch) and stored batch by batch, so a killed run keeps what it already paid for. Vectors
    go straight into the output array: memory is the output plus one batch, whatever the size
    of the portfolio or the share found in the cache.
    """
    hashes = [content_hash(t) for t in texts]
    first_row: dict[str, int] = {}
    for i, h in enumerate(hashes):
        first_row.setdefault(h, i)
    unique = list(first_row)
    cached = cache.known(encoder.model_id, unique) if cache is not None else set()
    missing = [h for h in unique if h not in cached]
    missing.sort(key=lambda h: len(texts[first_row[h]]))
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    if progress is not None and len(texts) - len(missing) > 0:
        progress(len(texts) - len(missing))
    for start in range(0, len(missing), batch_size):
        chunk = missing[start : start + batch_size]
        rows = [first_row[h] for h in chunk]
        vecs = encoder.encode([texts[r] for r in rows])
        if vecs.shape != (len(chunk), encoder.dim):
            raise EncoderError(
                f"encoder {encoder.model_id} returned shape {vecs.shape}, "
                f"expected ({len(chunk)}, {encoder.dim})"
            )
        out[rows] = vecs
        if cache is not None:
            cache.put_many(encoder.model_id, {h: vecs[i] for i, h in enumerate(chunk)})
        if progress is not None:
            progress(len(chunk))
    if cache is not None:
        hits = [h for h in unique if h in cached]
        for start in range(0, len(hits), 5000):
            found = cache.get_many(encoder.model_id, hits[start : start + 5000])
            for h, vec in found.items():
                out[first_row[h]] = vec
    src = np.fromiter((first_row[h] for h in hashes), dtype=np.int64, count=len(hashes))
    dup = src != np.arange(len(hashes))
    if dup.any():
        out[dup] = out[src[dup]]
    return out, len(missing)
