"""Pair scoring: features of a (query, candidate) pair → a calibrated probability → a tier.

The probability comes from a logistic model over a few signals (dense cosine, TF-IDF cosine,
title similarity, same department). Default weights ship with the package; `calibrate` refits
them from labelled pairs and the index records which version it uses.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from dedupe.records import Tier

FEATURES: tuple[str, ...] = ("dense", "lexical", "title", "same_department")


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
            features=tuple(data.get("features", FEATURES)),
            version=str(data.get("version", "custom")),
            trained_on=str(data.get("trained_on", "")),
            extra=dict(data.get("extra", {})),
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
    """The shipped weights for an encoder (fitted on gov_pairs training splits), or a generic set."""
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
    return ScorerParams(weights=(12.0, 6.0, 2.0, -0.3), bias=-9.0, version="generic-untrained")
