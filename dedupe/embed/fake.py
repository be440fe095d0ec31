"""A deterministic hashing encoder for tests: no model, no torch, stable across processes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

import numpy as np

from dedupe.embed.encoder import normalize_rows

_TOKEN = re.compile(r"\w+", re.UNICODE)


class FakeEncoder:
    """Bag of hashed word unigrams and bigrams, L2-normalised.

    Texts that share words get similar vectors, which is enough for pipeline tests. `calls`
    records every batch it encoded, so tests can prove what was (not) re-encoded.
    """

    def __init__(self, dim: int = 256, model_id: str = "fake-hashing-256") -> None:
        self.dim = dim
        self.model_id = model_id
        self.calls: list[list[str]] = []

    def _bucket(self, token: str) -> int:
        digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "little") % self.dim

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        texts = list(texts)
        self.calls.append(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            tokens = [t.lower() for t in _TOKEN.findall(text)]
            for tok in tokens:
                out[i, self._bucket(tok)] += 1.0
            for a, b in zip(tokens, tokens[1:], strict=False):
                out[i, self._bucket(a + " " + b)] += 0.5
        if progress is not None:
            progress(len(texts))
        return normalize_rows(out)

    @property
    def n_encoded(self) -> int:
        return sum(len(c) for c in self.calls)
