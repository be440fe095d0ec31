"""Pair scoring: features of a (query, candidate) pair → a calibrated probability → a tier.

The probability comes from a logistic model over a few signals (dense cosine, TF-IDF cosine,
title similarity, language, English↔French word overlap: `dedupe.match.features`). Default
weights ship with the package; `calibrate` refits them from labelled pairs and the index
records which version it uses.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from typing import Any

import numpy as np

from dedupe.records import Tier

FEATURES: tuple[str, ...] = (
    "dense",
    "lexical",
    "title",
    "title_char",
    "title_sq",
    "title_char_sq",
    "cross_lang",
    "dense_x_cross",
    "len_ratio",
    "lexical_xl",
    "lexical_nn",
    "title_nn",
    "title_char_nn",
    "title_sq_nn",
    "title_char_sq_nn",
    "lexical_xl_nn",
)
LEGACY_FEATURES: tuple[str, ...] = ("dense", "lexical", "title", "same_department")


@dataclass(frozen=True)
class ScorerParams:
    """Logistic weights over `features` plus the tier cut-offs on the probability."""

    weights: tuple[float, ...]
    bias: float
    duplicate_at: float = 0.85
    overlap_at: float = 0.5
    features: tuple[str, ...] = FEATURES
    version: str = "default"
    trained_on: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # The dense feature's learned adapter (`dedupe.match.adapter`, shipped by name; "" for none)
    # and the raw cosine's weight in it.
    dense_adapter: str = ""
    dense_blend: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["weights"] = list(self.weights)
        data["features"] = list(self.features)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScorerParams:
        return cls(
            weights=tuple(float(w) for w in data["weights"]),
            bias=float(data["bias"]),
            duplicate_at=float(data.get("duplicate_at", 0.85)),
            overlap_at=float(data.get("overlap_at", 0.5)),
            features=tuple(data.get("features", LEGACY_FEATURES)),
            version=str(data.get("version", "custom")),
            trained_on=str(data.get("trained_on", "")),
            extra=dict(data.get("extra", {})),
            dense_adapter=str(data.get("dense_adapter", "")),
            dense_blend=float(data.get("dense_blend", 1.0)),
        )

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(duplicate or overlap) for a (n, len(features)) feature matrix."""
        z = x @ np.asarray(self.weights, dtype=np.float64) + self.bias
        return (1.0 / (1.0 + np.exp(-z))).astype(np.float64)

    def tier(self, probability: float) -> Tier:
        if probability >= self.duplicate_at:
            return Tier.DUPLICATE
        if probability >= self.overlap_at:
            return Tier.OVERLAP
        return Tier.BELOW


def default_params(model_id: str) -> ScorerParams:
    """The shipped weights for an encoder (fitted on the gov_pairs tune split), or a generic set."""
    try:
        text = resources.files("dedupe.match").joinpath("default_weights.json").read_text("utf-8")
        table = json.loads(text)
    except (FileNotFoundError, json.JSONDecodeError):
        table = {}
    for key, data in table.items():
        if model_id.startswith(key):
            return ScorerParams.from_dict(data)
    if "generic" in table:
        return ScorerParams.from_dict(table["generic"])
    return ScorerParams(
        weights=(12.0, 6.0, 2.0, -0.3),
        bias=-9.0,
        features=LEGACY_FEATURES,
        version="generic-untrained",
    )


def fit_params(
    x: np.ndarray,
    y: np.ndarray,
    *,
    features: tuple[str, ...] = FEATURES,
    version: str = "custom",
    trained_on: str = "",
    c: float = 1.0,
    duplicate_precision: float = 0.97,
    flag_beta: float = 1.0,
    sample_weight: np.ndarray | None = None,
) -> ScorerParams:
    """Fit the logistic model on labelled pairs and choose the tier cut-offs from the same data.

    `overlap_at` (the flag threshold) maximises F-beta on the fitting data; `duplicate_at` is the
    lowest probability at which precision reaches `duplicate_precision` (at least `overlap_at`).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import precision_recall_curve

    from dedupe.errors import CalibrationError

    y = np.asarray(y, dtype=int)
    if x.shape[0] != y.shape[0] or x.shape[1] != len(features):
        raise CalibrationError(
            f"feature matrix {x.shape} does not match {len(y)} labels / {features}"
        )
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    if n_pos < 5 or n_neg < 5:
        raise CalibrationError(
            "need at least 5 positive and 5 negative labelled pairs to calibrate, "
            f"got {n_pos} and {n_neg}"
        )
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((x - mean) / scale, y, sample_weight=sample_weight)
    w = model.coef_[0] / scale
    b = float(model.intercept_[0] - np.sum(model.coef_[0] * mean / scale))
    prob = 1.0 / (1.0 + np.exp(-(x @ w + b)))
    precision, recall, thresholds = precision_recall_curve(y, prob)
    p, r = precision[:-1], recall[:-1]
    beta2 = flag_beta**2
    fbeta = (1 + beta2) * p * r / np.maximum(beta2 * p + r, 1e-12)
    overlap_at = float(thresholds[int(np.argmax(fbeta))])
    ok = np.nonzero((p >= duplicate_precision) & (thresholds >= overlap_at))[0]
    duplicate_at = float(thresholds[ok[0]]) if len(ok) else max(overlap_at, 0.9)
    return ScorerParams(
        weights=tuple(round(float(v), 6) for v in w),
        bias=round(b, 6),
        duplicate_at=round(max(duplicate_at, overlap_at), 4),
        overlap_at=round(overlap_at, 4),
        features=features,
        version=version,
        trained_on=trained_on,
        extra={"n_positive": n_pos, "n_negative": n_neg, "c": c},
    )


def refit_weights(
    params: ScorerParams,
    x: np.ndarray,
    y: np.ndarray,
    names: tuple[str, ...],
    *,
    sample_weight: np.ndarray | None = None,
    l2: float = 1e-3,
) -> ScorerParams:
    """`params` with only the weights `names` refitted (logistic loss on `x`, `y`; every other
    weight and the bias held fixed), the tier cut-offs kept. The shipped weights use it to set
    how English↔French pairs are scored (`cross_lang`, `dense_x_cross`) from the cross-language
    pairs alone, leaving every same-language score as it was."""
    from scipy.optimize import minimize

    from dedupe.errors import CalibrationError

    y = np.asarray(y, dtype=np.float64)
    idx = [params.features.index(n) for n in names if n in params.features]
    if len(idx) != len(names):
        raise CalibrationError(f"{names} are not all among the features {params.features}")
    if x.shape[0] != y.shape[0] or x.shape[1] != len(params.features) or not 0 < y.sum() < len(y):
        raise CalibrationError(
            f"need positive and negative rows of {len(params.features)} features"
        )
    w = np.asarray(params.weights, dtype=np.float64)
    wt = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    sub = x[:, idx]
    offset = x @ w + params.bias - sub @ w[idx]

    def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
        z = offset + sub @ p
        prob = 1.0 / (1.0 + np.exp(-z))
        value = float(np.sum(wt * (np.logaddexp(0.0, z) - y * z))) + 0.5 * l2 * float(p @ p)
        return value, sub.T @ (wt * (prob - y)) + l2 * p

    found = minimize(loss, w[idx], jac=True, method="L-BFGS-B")
    w[idx] = found.x
    return replace(params, weights=tuple(round(float(v), 6) for v in w))
