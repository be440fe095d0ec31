"""The persisted portfolio index: records, vectors and a FAISS index, one generation at a time.

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
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pandas as pd

from dedupe.csvsafe import atomic_path
from dedupe.errors import IndexCorruptError
from dedupe.index.manifest import (
    REBUILD,
    FileEntry,
    Manifest,
    now_iso,
    read_manifest,
    write_manifest,
)
from dedupe.index.vectorfile import VectorFile
from dedupe.records import ALL_FIELDS, Record

RECORD_COLUMNS = (*ALL_FIELDS, "origin", "text_hash")


class IndexKind(str, Enum):
    """FAISS structures: exact search, or compressed / approximate ones for very large portfolios.

    - `flat`: exact inner product on float32 (4 bytes per dimension per record).
    - `sq8`: exact scan of 8-bit scalar-quantised codes (1 byte per dimension; cosine error ~1e-3).
    - `hnsw`: HNSW graph over float32 (fast queries, slow build, +~0.3 KB per record).
    - `ivf_sq8`: inverted lists over 8-bit codes (fast build and queries, approximate).
    - `auto`: `flat` below `HNSW_FROM` records, `hnsw` up to `APPROX_FROM`, `ivf_sq8` from there.
    """

    FLAT = "flat"
    SQ8 = "sq8"
    HNSW = "hnsw"
    IVF_SQ8 = "ivf_sq8"
    AUTO = "auto"


# From HNSW_FROM records a query no longer scans every vector: exact search costs ~25 ms per
# query at 100k, HNSW ~0.6 ms with recall@10 0.998 (efSearch 128; benchmarks/bench_index.py),
# and `check` re-scores the candidates it returns from the stored vectors (exact cosines).
HNSW_FROM = 50_000
# From APPROX_FROM the index is 8-bit inverted lists: a quarter of HNSW's memory, faster build.
APPROX_FROM = 300_000
FLOAT16_FROM = APPROX_FROM  # vectors-N.npy is stored as float16 from this size (half the memory)
IVF_NPROBE = 32
# k-means trains on this many sampled vectors per inverted list (FAISS warns below 39): at 300k,
# recall@10 0.9978 vs 0.9962 with 64, a third less build time and ~40% less training memory.
IVF_TRAIN_PER_LIST = 40
SQ_TRAIN = 32_768  # residuals the 8-bit ranges of `ivf_sq8` are learned from
HNSW_EF_SEARCH = 128


def choose_kind(n: int, kind: IndexKind = IndexKind.AUTO) -> IndexKind:
    if kind is not IndexKind.AUTO:
        return kind
    if n >= APPROX_FROM:
        return IndexKind.IVF_SQ8
    return IndexKind.HNSW if n >= HNSW_FROM else IndexKind.FLAT


def vector_dtype(n: int) -> type[np.floating[Any]]:
    """How the vectors of an n-record generation are stored (and built): float16 from
    `FLOAT16_FROM` records, float32 below."""
    return np.float16 if n >= FLOAT16_FROM else np.float32


def ivf_lists(n: int) -> int:
    """Inverted lists for n records: ~4·sqrt(n), at least 1, at most n/39 (FAISS's floor)."""
    return int(max(1, min(4 * int(np.sqrt(max(n, 1))), n // 39)))


def _chunks(vectors: np.ndarray | VectorFile, size: int = 16_384) -> Any:
    """float32 blocks of the vectors, in order (a `VectorFile` is read block by block)."""
    if isinstance(vectors, VectorFile):
        yield from (block for _, block in vectors.blocks(size))
        return
    for start in range(0, vectors.shape[0], size):
        yield np.ascontiguousarray(vectors[start : start + size], dtype=np.float32)


def build_faiss(
    vectors: np.ndarray | VectorFile, kind: IndexKind = IndexKind.AUTO, *, seed: int = 1234
) -> tuple[Any, str]:
    """Build a FAISS inner-product index; returns (index, kind actually used).

    Vectors may be float16, a memory map or a `VectorFile` (read block by block): they are
    converted to float32 in chunks, so the build never holds a full float32 copy (except
    `flat`/`hnsw`, which store one).
    """
    n, dim = vectors.shape
    chosen = choose_kind(n, kind)
    metric = faiss.METRIC_INNER_PRODUCT
    index: Any
    if chosen is IndexKind.HNSW:
        index = faiss.IndexHNSWFlat(dim, 32, metric)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif chosen is IndexKind.SQ8:
        index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, metric)
    elif chosen is IndexKind.IVF_SQ8:
        nlist = ivf_lists(n)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, metric
        )
        index.cp.seed = seed
        index.cp.max_points_per_centroid = IVF_TRAIN_PER_LIST
        index.nprobe = min(IVF_NPROBE, nlist)
    else:
        index = faiss.IndexFlatIP(dim)
    if n and not index.is_trained:
        rng = np.random.default_rng(seed)
        sample = np.sort(
            rng.choice(n, size=min(n, IVF_TRAIN_PER_LIST * ivf_lists(n)), replace=False)
        )
        train = vectors.take(sample) if isinstance(vectors, VectorFile) else vectors[sample]
        train = np.ascontiguousarray(train, dtype=np.float32)
        if chosen is IndexKind.IVF_SQ8:
            # As `index.train` does it (k-means with L2 assignment, centroids added to the
            # quantizer: the same centroids), but the 8-bit ranges are then learned from the
            # residuals of a subset: FAISS made residuals of the whole sample (+0.33 GB at 1M).
            clus = faiss.Clustering(dim, index.nlist, index.cp)
            clus.train(train, faiss.IndexFlatL2(dim))
            index.quantizer.add(faiss.vector_to_array(clus.centroids).reshape(index.nlist, dim))
            del clus
            keep = np.sort(rng.choice(len(train), size=min(len(train), SQ_TRAIN), replace=False))
            train = train[keep]
        index.train(train)
        del train
    for chunk in _chunks(vectors):
        index.add(chunk)
    return index, chosen.value


def set_search_params(index: Any) -> None:
    """Query-time parameters are not all saved with the index: restore them after reading."""
    if hasattr(index, "nprobe"):
        index.nprobe = min(IVF_NPROBE, int(index.nlist))
    hnsw = getattr(index, "hnsw", None)
    if hnsw is not None:
        hnsw.efSearch = max(int(hnsw.efSearch), HNSW_EF_SEARCH)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def records_frame(records: list[Record], origins: list[str], hashes: list[str]) -> pd.DataFrame:
    # Column by column (`Record.to_dict` is `dataclasses.asdict`: ~0.3 ms a record).
    columns: dict[str, list[Any]] = {f: [getattr(r, f) for r in records] for f in ALL_FIELDS}
    columns["origin"], columns["text_hash"] = list(origins), list(hashes)
    # Text columns hold the records' own str objects (object dtype): a copy into Arrow strings
    # took ~0.9 KB a record, and every read of such a column makes new Python strings again.
    data: dict[str, pd.Series] = {
        col: pd.Series(
            ["" if v is None else v if isinstance(v, str) else str(v) for v in columns[col]],
            dtype=object,
        )
        for col in RECORD_COLUMNS
        if col != "budget"
    }
    data["budget"] = pd.to_numeric(pd.Series(columns["budget"], dtype=object), errors="coerce")
    frame = pd.DataFrame(data, columns=list(RECORD_COLUMNS))
    frame["budget"] = frame["budget"].astype("float64")
    return frame


def frame_to_records(frame: pd.DataFrame) -> list[Record]:
    return [record_from_values(row) for row in frame[list(ALL_FIELDS)].to_dict(orient="records")]


def record_from_values(values: dict[Any, Any]) -> Record:
    """A `Record` from one row's field values as the records frame stores them (NaN budget:
    none)."""
    budget = values.get("budget")
    values["budget"] = None if budget is None or budget != budget else float(budget)
    return Record(**{str(k): v for k, v in values.items()})


FEW_QUERIES = 4  # searched on one thread
_ONE_THREAD = threading.Lock()


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
    def open(
        cls, path: str | Path, *, model_id: str | None = None, verify: bool = False
    ) -> PortfolioIndex:
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
                    f"{path / 'manifest.json'}: no {role} file listed; {REBUILD}"
                )
            fpath = path / entry.name
            if not fpath.exists():
                raise IndexCorruptError(f"{fpath}: missing; {REBUILD}")
            size = fpath.stat().st_size
            if size != entry.size:
                raise IndexCorruptError(
                    f"{fpath}: {size} bytes, the manifest says {entry.size} (truncated or "
                    f"overwritten); {REBUILD}"
                )
            if verify and _sha256(fpath) != entry.sha256:
                raise IndexCorruptError(
                    f"{fpath}: content hash differs from the manifest; re-run ingest"
                )
            files[role] = fpath
        try:
            frame = pd.read_parquet(files["records"])
        except Exception as exc:  # noqa: BLE001 - arrow raises many kinds
            raise IndexCorruptError(
                f"{files['records']}: unreadable ({exc}); re-run ingest"
            ) from None
        try:
            vectors = np.load(files["vectors"], mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise IndexCorruptError(
                f"{files['vectors']}: unreadable ({exc}); re-run ingest"
            ) from None
        try:
            index = _read_faiss(files["faiss"])
            set_search_params(index)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "read error"
            raise IndexCorruptError(
                f"{files['faiss']}: unreadable FAISS file ({first}); {REBUILD}"
            ) from None
        if not (len(frame) == vectors.shape[0] == index.ntotal == manifest.record_count):
            raise IndexCorruptError(
                f"{path}: counts disagree (records {len(frame)}, vectors {vectors.shape[0]}, "
                f"faiss {index.ntotal}, manifest {manifest.record_count}); {REBUILD}"
            )
        return cls(path=path, manifest=manifest, frame=frame, vectors=vectors, faiss_index=index)

    def records(self) -> list[Record]:
        return frame_to_records(self.frame)

    def record_at(self, pos: int) -> Record:
        return frame_to_records(self.frame.iloc[[pos]])[0]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, positions) of the k nearest records per query; -1 positions are padding.

        Exact for `flat` (and `sq8` up to 8-bit rounding), approximate for `ivf_sq8` / `hnsw`.
        """
        k = max(1, min(k, len(self)))
        if len(self) == 0:
            empty = np.zeros((queries.shape[0], 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if q.shape[0] > FEW_QUERIES:
            sims, pos = self.faiss_index.search(q, k)
            return sims, pos
        # A single query (`check`) gains nothing from FAISS's OpenMP threads, and waking them
        # right after the encoder's BLAS threads costs more than the search: 0.4 ms on one
        # thread against 2-10 ms on two, HNSW at 100k.
        # The thread count is process-wide: concurrent checks (the review app's thread pool)
        # take turns, or one could restore another's 1 and leave every later search on one.
        with _ONE_THREAD:
            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                sims, pos = self.faiss_index.search(q, k)
            finally:
                faiss.omp_set_num_threads(threads)
        return sims, pos


def write_generation(
    path: str | Path,
    *,
    frame: pd.DataFrame,
    vectors: np.ndarray | VectorFile,
    model_id: str,
    dim: int,
    previous: Manifest | None,
    kind: IndexKind = IndexKind.AUTO,
    scorer: dict[str, Any] | None = None,
    extra_files: dict[str, Path] | None = None,
    storage: str | None = None,
    origin_files: dict[str, list[str]] | None = None,
) -> Manifest:
    """Write a new generation beside the current one, swap the manifest, then clean up.

    `origin_files`: the files each source was last read from (kept for the sources of `frame`).

    `storage` ("float32" or "float16") is how vectors-N.npy is stored; by default float16
    from `FLOAT16_FROM` records (cosine error < 1e-3, half the disk and memory), else float32.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    gen = (previous.generation + 1) if previous else 1
    names = {
        "records": f"records-{gen}.parquet",
        "vectors": f"vectors-{gen}.npy",
        "faiss": f"index-{gen}.faiss",
    }
    with atomic_path(path / names["records"]) as tmp:
        _write_records(frame, tmp)
    if isinstance(vectors, VectorFile):  # written already (`write_vector_file`), in place
        if vectors.path != path / names["vectors"]:
            raise ValueError(f"{vectors.path}: the vectors file must be {names['vectors']}")
    else:
        if storage is None:
            storage = np.dtype(vector_dtype(len(vectors))).name
        if storage not in ("float32", "float16"):
            raise ValueError(f"storage must be float32 or float16, not {storage!r}")
        dtype = np.float16 if storage == "float16" else np.float32
        with atomic_path(path / names["vectors"]) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, np.ascontiguousarray(vectors, dtype=dtype), allow_pickle=False)
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
        origin_files={k: v for k, v in (origin_files or {}).items() if k in origins},
        scorer=scorer or {},
    )
    write_manifest(path, manifest)
    _remove_old_generations(path, keep={e.name for e in files.values()})
    return manifest


def _write_records(frame: pd.DataFrame, path: Path, rows: int = 65_536) -> None:
    """The records frame as Parquet, one row group per `rows` records: Arrow holds one slice of
    the text columns at a time (the whole frame at once was ~0.6 GB more at a million records)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    first = pa.Table.from_pandas(frame.iloc[:rows], preserve_index=False)
    with pq.ParquetWriter(path, first.schema) as writer:
        writer.write_table(first)
        del first
        for lo in range(rows, len(frame), rows):
            part = frame.iloc[lo : lo + rows]
            writer.write_table(
                pa.Table.from_pandas(part, schema=writer.schema, preserve_index=False)
            )


def _remove_old_generations(path: Path, keep: set[str]) -> None:
    for pattern in (
        "records-*.parquet",
        "vectors-*.npy",
        "index-*.faiss",
        "lexical-*.npz",
        "boilerplate-*.json",
        "acronyms-*.json",
        "sentences-*.npy",
        "sentence-offsets-*.npy",
        "scored-*.arrow",
    ):
        for f in path.glob(pattern):
            if f.name not in keep:
                try:
                    os.remove(f)
                except OSError:
                    pass


def _read_faiss(path: Path) -> Any:
    """Read a FAISS file; flat codes are memory-mapped (pages load on first search, shared
    between processes), other kinds are read into memory."""
    try:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    except RuntimeError:
        return faiss.read_index(str(path))
