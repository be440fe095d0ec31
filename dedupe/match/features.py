"""Pair features shared by `check` (proposal vs candidates), `pairs()`, `evaluate` and `calibrate`.

Every feature is cheap (no model load, no per-candidate encoding): the dense cosine comes from
the vectors already computed, the rest from sparse TF-IDF products and string lengths.

| name | meaning |
|---|---|
| dense | cosine of the two (boilerplate-stripped) text embeddings |
| lexical | TF-IDF cosine (word uni+bigrams, portfolio IDF) of the stripped texts |
| title | TF-IDF cosine of the titles |
| title_char | character 3–5-gram cosine of the titles (survives inflection, FR/EN cognates) |
| cross_lang | 1 when the two texts are in different languages |
| dense_x_cross | dense × cross_lang (cross-language pairs rely on the dense score alone) |
| short | 1 when the shorter text has fewer than `SHORT_TOKENS` content words |
| dense_x_short | dense × short (a two-line note against a charter scores lower by nature) |
| len_ratio | log(shorter / longer) content-word count (≤ 0) |
| same_department | 1 when both sides name the same department |
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from dedupe.match.lexical import LexicalModel
from dedupe.text import tokenize

SHORT_TOKENS = 15

_CHAR = HashingVectorizer(
    analyzer="char_wb", ngram_range=(3, 5), n_features=2**18, lowercase=True, alternate_sign=False
)


def _same(a: str, b: str) -> float:
    return 1.0 if a and b and a.strip().lower() == b.strip().lower() else 0.0


def _lang(value: str) -> str:
    v = (value or "").strip().lower()
    return v[:2] if v[:2] in ("en", "fr") else ""


def char_similarity(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Row-wise cosine of character 3–5-gram vectors (hashing: nothing to fit or save)."""
    ma, mb = _CHAR.transform(list(a)), _CHAR.transform(list(b))
    dot = np.asarray(ma.multiply(mb).sum(axis=1)).ravel()
    na = np.sqrt(np.asarray(ma.multiply(ma).sum(axis=1)).ravel())
    nb = np.sqrt(np.asarray(mb.multiply(mb).sum(axis=1)).ravel())
    den = na * nb
    out = np.zeros(dot.shape, dtype=np.float64)
    np.divide(dot, den, out=out, where=den > 0)
    return out


def languages(texts: Sequence[str], given: Sequence[str] | None = None) -> list[str]:
    """`en`/`fr` per text: the given language when it is one of those, else detected."""
    from dedupe.text import detect_language

    out = []
    for i, t in enumerate(texts):
        lang = _lang(given[i]) if given is not None else ""
        out.append(lang or detect_language(t))
    return out


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
    langs_a: Sequence[str] | None = None,
    langs_b: Sequence[str] | None = None,
    features: Sequence[str],
) -> np.ndarray:
    """A (n, len(features)) matrix for n aligned pairs (texts already boilerplate-stripped)."""
    n = len(texts_a)
    if n == 0:
        return np.zeros((0, len(features)))
    want = set(features)
    dense_v = np.asarray(dense, dtype=np.float64).reshape(n)
    cols: dict[str, np.ndarray] = {"dense": dense_v}
    if "lexical" in want:
        cols["lexical"] = lexical.pair_similarity(texts_a, texts_b).astype(np.float64)
    if "title" in want:
        cols["title"] = lexical.pair_similarity(titles_a, titles_b).astype(np.float64)
    if "title_char" in want:
        cols["title_char"] = char_similarity(titles_a, titles_b)
    if want & {"cross_lang", "dense_x_cross"}:
        la = languages(texts_a, langs_a)
        lb = languages(texts_b, langs_b)
        cross = np.array([1.0 if a and b and a != b else 0.0 for a, b in zip(la, lb, strict=True)])
        cols["cross_lang"] = cross
        cols["dense_x_cross"] = dense_v * cross
    if want & {"short", "dense_x_short", "len_ratio"}:
        na = np.array([len(tokenize(t)) for t in texts_a], dtype=np.float64)
        nb = np.array([len(tokenize(t)) for t in texts_b], dtype=np.float64)
        lo, hi = np.minimum(na, nb), np.maximum(na, nb)
        short = (lo < SHORT_TOKENS).astype(np.float64)
        cols["short"] = short
        cols["dense_x_short"] = dense_v * short
        cols["len_ratio"] = np.log((lo + 1.0) / (hi + 1.0))
    if "same_department" in want:
        cols["same_department"] = np.array(
            [_same(a, b) for a, b in zip(depts_a, depts_b, strict=True)], dtype=np.float64
        )
    missing = [f for f in features if f not in cols]
    if missing:
        raise ValueError(f"unknown pair features {missing}; known: {sorted(cols)}")
    return np.column_stack([cols[f] for f in features])
