"""Sentence vectors of every indexed record, computed at ingest: what a reason aligns.

A match's reason is the best-aligned sentence pair of the two texts. Encoding the sentences of
the ~10 matches a `check` shows took ~40 ms of a warm query (USE, ~1.2 ms a sentence), most of
its time; an ingest now encodes every record's sentences once (only for texts that changed:
unchanged texts keep their slice of the previous generation, and every sentence vector goes
through the embedding cache, so a killed ingest keeps what it paid for).

Files of a generation: `sentences-N.npy` (float16, one row per sentence; memory-mapped when
read) and `sentence-offsets-N.npy` (int64, n + 1: record i owns rows offsets[i]:offsets[i + 1]). The
sentences themselves are not stored: `record_sentences` of the record's stripped text gives
them again, in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dedupe.csvsafe import atomic_path
from dedupe.embed.cache import EmbeddingCache, embed_with_cache
from dedupe.embed.encoder import Encoder
from dedupe.errors import IndexCorruptError
from dedupe.index.manifest import Manifest
from dedupe.index.vectorfile import npy_writer
from dedupe.text import split_sentences

MAX_SENTENCES = 12  # of a text, for reasons (a long charter's first dozen sentences)


def record_sentences(text: str) -> list[str]:
    """The sentences of a (stripped) text that get a vector: the first `MAX_SENTENCES`."""
    return split_sentences(text)[:MAX_SENTENCES]


@dataclass(frozen=True)
class SentenceVectors:
    """Per-record sentence vectors: `vectors[offsets[i]:offsets[i + 1]]` belong to record i."""

    offsets: np.ndarray
    vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def count(self, pos: int) -> int:
        return int(self.offsets[pos + 1] - self.offsets[pos])

    def of(self, pos: int) -> np.ndarray:
        """Record `pos`'s sentence vectors as float32 rows."""
        return np.asarray(self.vectors[self.offsets[pos] : self.offsets[pos + 1]], np.float32)

    @classmethod
    def load(cls, vectors_path: Path, offsets_path: Path) -> SentenceVectors:
        try:
            offsets = np.load(offsets_path, allow_pickle=False)
            vectors = np.load(vectors_path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"{vectors_path}: unreadable sentence vectors ({exc})") from exc
        if offsets.ndim != 1 or len(offsets) < 1 or int(offsets[-1]) != vectors.shape[0]:
            raise IndexCorruptError(
                f"{offsets_path}: offsets end at {int(offsets[-1]) if len(offsets) else '-'} "
                f"but {vectors_path.name} holds {vectors.shape[0]} sentence vectors"
            )
        return cls(offsets=offsets, vectors=vectors)


def open_sentences(path: Path, manifest: Manifest) -> SentenceVectors | None:
    """The sentence vectors of the index generation `manifest` describes (None: an index
    written before they existed, whose reasons encode sentences when asked)."""
    vec, off = manifest.files.get("sentences"), manifest.files.get("sentence_offsets")
    if vec is None or off is None:
        return None
    return SentenceVectors.load(path / vec.name, path / off.name)


def build_sentence_vectors(
    texts: Sequence[str],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    vectors_path: Path,
    offsets_path: Path,
    *,
    old: SentenceVectors | None = None,
    old_row: Sequence[int] | np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    chunk: int = 8192,
) -> tuple[SentenceVectors, int]:
    """Write the sentence vectors of `texts` (rows aligned with the new generation) to
    `vectors_path` / `offsets_path` (each atomically) and return them with how many sentences
    were encoded. `old_row[i]` >= 0: text i is unchanged from row `old_row[i]` of `old`, whose
    slice is copied; the other texts are split into sentences and encoded through the cache.

    The file is written in record order, ~`chunk` sentences at a time, by plain writes (not a
    memory map, whose written pages counted in the process's memory): memory holds one chunk,
    whatever the size of the portfolio. `on_total` is told how many texts are split and
    encoded; `progress` counts them.
    """
    n = len(texts)
    rows = np.full(n, -1, dtype=np.int64)
    if old is not None and old_row is not None:
        rows[:] = old_row
    todo = np.flatnonzero(rows < 0)
    if on_total is not None:
        on_total(len(todo))
    counts = np.zeros(n, dtype=np.int64)
    if old is not None:
        reused = rows >= 0
        counts[reused] = np.diff(old.offsets)[rows[reused]]
    n_encoded = 0
    with npy_writer(vectors_path, encoder.dim, np.float16) as out:
        i = 0
        while i < n:
            # Records i..j-1, in order, ~`chunk` sentences: new texts are split and encoded,
            # unchanged ones copy their rows of the previous generation.
            fresh_texts: list[str] = []
            sentences = 0
            j = i
            while j < n and sentences < chunk:
                if rows[j] < 0:
                    split = record_sentences(texts[j])
                    fresh_texts.extend(split)
                    counts[j] = len(split)
                sentences += int(counts[j])
                j += 1
            local = np.zeros(j - i + 1, dtype=np.int64)
            np.cumsum(counts[i:j], out=local[1:])
            block = np.empty((sentences, encoder.dim), dtype=np.float16)
            mine = rows[i:j]
            new = np.flatnonzero(mine < 0)
            if fresh_texts:
                fresh, k = embed_with_cache(encoder, fresh_texts, cache)
                block[_rows_of(local, new, counts[i:j][new])] = fresh
                n_encoded += k
                if progress is not None:
                    progress(len(new))
            kept = np.flatnonzero(mine >= 0)
            if len(kept):
                assert old is not None
                src = _rows_of(old.offsets, mine[kept], counts[i:j][kept])
                block[_rows_of(local, kept, counts[i:j][kept])] = old.vectors[src]
            out.write(block)
            i = j
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    with atomic_path(offsets_path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, offsets, allow_pickle=False)
    return SentenceVectors.load(vectors_path, offsets_path), n_encoded


def _rows_of(offsets: np.ndarray, which: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The rows `offsets[w] : offsets[w] + counts[k]` for each `w = which[k]`, concatenated."""
    if len(which) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(offsets[which], counts)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    out: np.ndarray = starts + within
    return out
