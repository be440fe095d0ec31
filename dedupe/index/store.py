"""The persisted portfolio index: records, their vectors and a FAISS index, one generation at a time.

Layout of an index directory:

    manifest.json            which generation is current, encoder, counts, file sizes and hashes
    records-<gen>.parquet    the canonical records (+ origin, text hash), row i ↔ vector i
    vectors-<gen>.npy        float32 L2-normalised vectors
    index-<gen>.faiss        inner-product FAISS index over the vectors (cosine similarity)
    embeddings.sqlite        embedding cache by (model id, text hash)
    quarantine-*.csv         rows that could not be indexed, with the reason

A write puts a whole new generation beside the current one and then swaps the manifest; only then
are old generation files removed. A killed run leaves the last good generation readable.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pandas as pd

from dedupe.csvsafe import atomic_path
from dedupe.errors import IndexCorruptError
from dedupe.index.manifest import FileEntry, Manifest, now_iso, read_manifest, write_manifest
from dedupe.records import ALL_FIELDS, Record

RECORD_COLUMNS = (*ALL_FIELDS, "origin", "text_hash")


class IndexKind(str, Enum):
    """FAISS structures: exact search, or approximate ones for very large portfolios."""

    FLAT = "flat"
    HNSW = "hnsw"
    AUTO = "auto"


HNSW_FROM = 300_000  # records; below this exact search is fast enough


def build_faiss(vectors: np.ndarray, kind: IndexKind = IndexKind.AUTO) -> tuple[Any, str]:
    """Build a FAISS inner-product index; returns (index, kind actually used)."""
    n, dim = vectors.shape
    chosen = kind
    if kind is IndexKind.AUTO:
        chosen = IndexKind.HNSW if n >= HNSW_FROM else IndexKind.FLAT
    if chosen is IndexKind.HNSW:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
    else:
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index, chosen.value


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def records_frame(records: list[Record], origins: list[str], hashes: list[str]) -> pd.DataFrame:
    rows = [
        {**r.to_dict(), "origin": o, "text_hash": h}
        for r, o, h in zip(records, origins, hashes, strict=True)
    ]
    frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    for col in RECORD_COLUMNS:
        if col != "budget":
            frame[col] = frame[col].fillna("").astype(str)
    frame["budget"] = pd.to_numeric(frame["budget"], errors="coerce").astype("float64")
    return frame


def frame_to_records(frame: pd.DataFrame) -> list[Record]:
    out = []
    for row in frame[list(ALL_FIELDS)].to_dict(orient="records"):
        budget = row.get("budget")
        row["budget"] = None if budget is None or budget != budget else float(budget)
        out.append(Record(**row))
    return out


@dataclass
class PortfolioIndex:
    """An opened index: manifest, records table, vectors and FAISS index (aligned by row)."""

    path: Path
    manifest: Manifest
    frame: pd.DataFrame
    vectors: np.ndarray
    faiss_index: Any

    @property
    def model_id(self) -> str:
        return self.manifest.model_id

    def __len__(self) -> int:
        return len(self.frame)

    @classmethod
    def open(cls, path: str | Path, *, model_id: str | None = None, verify: bool = False) -> PortfolioIndex:
        """Open the current generation; refuse another encoder's index by name."""
        path = Path(path)
        manifest = read_manifest(path)
        if model_id is not None:
            manifest.check_model(model_id, path)
        files = {}
        for role in ("records", "vectors", "faiss"):
            entry = manifest.files.get(role)
            if entry is None:
                raise IndexCorruptError(
                    f"{path / 'manifest.json'}: no {role} file listed; re-run `dedupe ingest`"
                )
            fpath = path / entry.name
            if not fpath.exists():
                raise IndexCorruptError(f"{fpath}: missing; re-run `dedupe ingest` to rebuild")
            size = fpath.stat().st_size
            if size != entry.size:
                raise IndexCorruptError(
                    f"{fpath}: {size} bytes, the manifest says {entry.size} (truncated or "
                    "overwritten); re-run `dedupe ingest` to rebuild"
                )
            if verify and _sha256(fpath) != entry.sha256:
                raise IndexCorruptError(f"{fpath}: content hash differs from the manifest; re-run ingest")
            files[role] = fpath
        try:
            frame = pd.read_parquet(files["records"])
        except Exception as exc:  # noqa: BLE001 - arrow raises many kinds
            raise IndexCorruptError(f"{files['records']}: unreadable ({exc}); re-run ingest") from None
        try:
            vectors = np.load(files["vectors"], mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise IndexCorruptError(f"{files['vectors']}: unreadable ({exc}); re-run ingest") from None
        try:
            index = faiss.read_index(str(files["faiss"]))
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "read error"
            raise IndexCorruptError(f"{files['faiss']}: unreadable FAISS file ({first}); re-run ingest") from None
        if not (len(frame) == vectors.shape[0] == index.ntotal == manifest.record_count):
            raise IndexCorruptError(
                f"{path}: counts disagree (records {len(frame)}, vectors {vectors.shape[0]}, "
                f"faiss {index.ntotal}, manifest {manifest.record_count}); re-run ingest"
            )
        return cls(path=path, manifest=manifest, frame=frame, vectors=vectors, faiss_index=index)

    def records(self) -> list[Record]:
        return frame_to_records(self.frame)

    def record_at(self, pos: int) -> Record:
        return frame_to_records(self.frame.iloc[[pos]])[0]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, positions) of the k nearest records per query; -1 positions are padding."""
        k = max(1, min(k, len(self)))
        if len(self) == 0:
            empty = np.zeros((queries.shape[0], 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        sims, pos = self.faiss_index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return sims, pos


def write_generation(
    path: str | Path,
    *,
    frame: pd.DataFrame,
    vectors: np.ndarray,
    model_id: str,
    dim: int,
    previous: Manifest | None,
    kind: IndexKind = IndexKind.AUTO,
    scorer: dict[str, Any] | None = None,
    extra_files: dict[str, Path] | None = None,
) -> Manifest:
    """Write a new generation beside the current one, swap the manifest, then clean up."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    gen = (previous.generation + 1) if previous else 1
    names = {
        "records": f"records-{gen}.parquet",
        "vectors": f"vectors-{gen}.npy",
        "faiss": f"index-{gen}.faiss",
    }
    with atomic_path(path / names["records"]) as tmp:
        frame.to_parquet(tmp, index=False)
    with atomic_path(path / names["vectors"]) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    index, used_kind = build_faiss(vectors, kind)
    with atomic_path(path / names["faiss"]) as tmp:
        faiss.write_index(index, str(tmp))
    files = {}
    for role, name in names.items():
        fpath = path / name
        files[role] = FileEntry(name=name, size=fpath.stat().st_size, sha256=_sha256(fpath))
    for role, fpath in (extra_files or {}).items():
        files[role] = FileEntry(name=fpath.name, size=fpath.stat().st_size, sha256=_sha256(fpath))
    origins = frame["origin"].value_counts().to_dict() if len(frame) else {}
    manifest = Manifest(
        model_id=model_id,
        dim=dim,
        generation=gen,
        record_count=len(frame),
        files=files,
        created_at=previous.created_at if previous else now_iso(),
        updated_at=now_iso(),
        index_kind=used_kind,
        origins={str(k): int(v) for k, v in origins.items()},
        scorer=scorer or {},
    )
    write_manifest(path, manifest)
    _remove_old_generations(path, keep={e.name for e in files.values()})
    return manifest


def _remove_old_generations(path: Path, keep: set[str]) -> None:
    for pattern in ("records-*.parquet", "vectors-*.npy", "index-*.faiss", "lexical-*.npz",
                    "boilerplate-*.json"):
        for f in path.glob(pattern):
            if f.name not in keep:
                try:
                    os.remove(f)
                except OSError:
                    pass
