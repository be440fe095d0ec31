"""Pair features shared by `check` (proposal vs candidates) and the all-pairs report stage."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dedupe.match.lexical import LexicalModel
from dedupe.match.scoring import FEATURES


def _same(a: str, b: str) -> float:
    return 1.0 if a and b and a.strip().lower() == b.strip().lower() else 0.0


def pair_features(
    *,
    dense: np.ndarray,
    lexical: LexicalModel,
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    titles_a: Sequence[str],
    titles_b: Sequence[str],
    depts_a: Sequence[str],
    depts_b: Sequence[str],
    features: Sequence[str] = FEATURES,
) -> np.ndarray:
    """A (n, len(features)) matrix for n aligned pairs."""
    n = len(texts_a)
    columns: dict[str, np.ndarray] = {
        "dense": np.asarray(dense, dtype=np.float64).reshape(n),
    }
    if "lexical" in features:
        columns["lexical"] = lexical.pair_similarity(texts_a, texts_b).astype(np.float64)
    if "title" in features:
        columns["title"] = lexical.pair_similarity(titles_a, titles_b).astype(np.float64)
    if "same_department" in features:
        columns["same_department"] = np.array(
            [_same(a, b) for a, b in zip(depts_a, depts_b, strict=True)], dtype=np.float64
        )
    return np.column_stack([columns[f] for f in features]) if n else np.zeros((0, len(features)))
