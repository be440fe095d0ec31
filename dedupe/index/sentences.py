"""Sentence vectors of every indexed record, computed at ingest: what a reason aligns.

A match's reason is the best-aligned sentence pair of the two texts. Encoding the sentences of
the ~10 matches a `check` shows took ~40 ms of a warm query (USE, ~1.2 ms a sentence), most of
its time; an ingest now encodes every record's sentences once (only for texts that changed:
unchanged texts keep their slice of the previous generation, and every sentence vector goes
through the embedding cache, so a killed ingest keeps what it paid for).

Files of a generation: `sentences-N.npy` (float16, one row per sentence, memory-mapped) and
`sentence-offsets-N.npy` (int64, n + 1: record i owns rows offsets[i]:offsets[i + 1]). The
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
    slice is copied; the other texts' sentences go through the cache, `chunk` at a time, straight
    into the memory-mapped file (memory does not grow with the portfolio). `on_total` is told
    how many sentences that is; `progress` counts them."""
    rows = np.full(len(texts), -1, dtype=np.int64)
    if old is not None and old_row is not None:
        rows[:] = old_row
    split = {i: record_sentences(texts[i]) for i in np.flatnonzero(rows < 0).tolist()}
    todo = [s for i in sorted(split) for s in split[i]]
    if on_total is not None:
        on_total(len(todo))
    counts = np.zeros(len(texts), dtype=np.int64)
    if old is not None:
        reused = rows >= 0
        counts[reused] = np.diff(old.offsets)[rows[reused]]
    for i, sents in split.items():
        counts[i] = len(sents)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    owner = np.repeat(np.arange(len(texts)), counts)
    src = rows[owner]
    from_old = src >= 0
    fresh_at = np.flatnonzero(~from_old)  # where `todo`'s vectors go, in order
    n_encoded = 0
    with atomic_path(vectors_path) as tmp:
        vectors = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=np.float16, shape=(int(offsets[-1]), encoder.dim)
        )
        if old is not None and from_old.any():
            within = np.arange(len(owner)) - offsets[owner]
            take = np.flatnonzero(from_old)
            for lo in range(0, len(take), chunk * 8):
                part = take[lo : lo + chunk * 8]
                vectors[part] = old.vectors[old.offsets[src[part]] + within[part]]
        for lo in range(0, len(todo), chunk):
            fresh, n = embed_with_cache(encoder, todo[lo : lo + chunk], cache, progress=progress)
            vectors[fresh_at[lo : lo + chunk]] = fresh
            n_encoded += n
        vectors.flush()
        del vectors
    with atomic_path(offsets_path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, offsets, allow_pickle=False)
    return SentenceVectors.load(vectors_path, offsets_path), n_encoded
