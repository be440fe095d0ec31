"""A generation's vectors written and read as a `.npy` file in row blocks, never whole.

An ingest of a million records held its vectors in memory (1 GB at float16, 512-d) from the
embedding stage to the FAISS build; written block by block as they are embedded, and read back
block by block for the index build, they cost one block. Reading goes through plain reads, not
a memory map, whose pages count in the process's resident memory as they are touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from dedupe.csvsafe import atomic_path
from dedupe.errors import IndexCorruptError


@dataclass(frozen=True)
class VectorFile:
    """An `.npy` file of shape (n, dim), read in row blocks."""

    path: Path
    n: int
    dim: int
    dtype: np.dtype
    offset: int  # where the rows start

    @classmethod
    def open(cls, path: Path) -> VectorFile:
        try:
            with open(path, "rb") as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
                offset = fh.tell()
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"{path}: unreadable vectors ({exc})") from exc
        if fortran or len(shape) != 2:
            raise IndexCorruptError(f"{path}: expected a C-ordered 2-d array, got {shape}")
        return cls(path=path, n=int(shape[0]), dim=int(shape[1]), dtype=dtype, offset=offset)

    @property
    def shape(self) -> tuple[int, int]:
        return self.n, self.dim

    def blocks(self, rows: int = 16_384) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, float32 block) over the whole file, in order."""
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            for lo in range(0, self.n, rows):
                yield lo, self._read(fh, min(rows, self.n - lo))

    def take(self, rows: np.ndarray, block: int = 16_384) -> np.ndarray:
        """The float32 rows at sorted positions `rows`, in one pass over the file."""
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        at = 0
        for lo, part in self.blocks(block):
            hi = int(np.searchsorted(rows, lo + len(part)))
            out[at:hi] = part[rows[at:hi] - lo]
            at = hi
        return out

    def _read(self, fh: BinaryIO, count: int) -> np.ndarray:
        data = np.fromfile(fh, dtype=self.dtype, count=count * self.dim)
        if data.size != count * self.dim:
            raise IndexCorruptError(f"{self.path}: truncated vectors file")
        return data.reshape(count, self.dim).astype(np.float32)


class NpyWriter:
    """Rows appended to an `.npy` file whose row count is known only at the end: the header is
    written again on close with the final count (numpy leaves it room to grow)."""

    def __init__(self, fh: BinaryIO, dim: int, dtype: type[np.floating]) -> None:
        self._fh, self.dim, self.dtype, self.rows = fh, dim, dtype, 0
        self._header = {
            "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
            "fortran_order": False,
        }
        np.lib.format.write_array_header_1_0(fh, {**self._header, "shape": (0, dim)})
        self._start = fh.tell()

    def write(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=self.dtype)
        if block.ndim != 2 or block.shape[1] != self.dim:
            raise ValueError(f"rows {self.rows}..: got shape {block.shape}, width {self.dim}")
        self._fh.write(block.tobytes())
        self.rows += len(block)

    def close(self) -> None:
        self._fh.seek(0)
        np.lib.format.write_array_header_1_0(
            self._fh, {**self._header, "shape": (self.rows, self.dim)}
        )
        if self._fh.tell() != self._start:  # cannot happen with numpy's room; never write garbage
            raise IndexCorruptError(f"{self._fh.name}: .npy header length changed while writing")


@contextmanager
def npy_writer(path: Path, dim: int, dtype: type[np.floating]) -> Iterator[NpyWriter]:
    """Write an `.npy` of rows of width `dim` atomically, block by block (`NpyWriter.write`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        writer = NpyWriter(fh, dim, dtype)
        yield writer
        writer.close()


def write_vector_file(
    path: Path,
    n: int,
    dim: int,
    dtype: type[np.floating],
    fill: Callable[[int, int], np.ndarray],
    rows: Iterable[int] | None = None,
) -> VectorFile:
    """Write an (n, dim) `.npy` of `dtype` atomically, block by block: `fill(lo, hi)` returns
    rows lo..hi-1. `rows` gives the block boundaries (default: every 16,384 rows)."""
    bounds = list(rows) if rows is not None else list(range(0, n, 16_384))
    bounds = sorted({0, *(b for b in bounds if 0 < b < n)}) + [n]
    with npy_writer(path, dim, dtype) as out:
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            if hi <= lo:
                continue
            block = fill(lo, hi)
            if len(block) != hi - lo:
                raise ValueError(f"rows {lo}..{hi}: got shape {block.shape}")
            out.write(block)
    return VectorFile.open(path)
