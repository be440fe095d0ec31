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

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from dedupe.match.lexical import LexicalModel
from dedupe.text import tokenize

SHORT_TOKENS = 15

CHAR_NGRAMS = (3, 5)
_WHITE = re.compile(r"\s\s+")


def char_ngrams(text: str, lo: int = CHAR_NGRAMS[0], hi: int = CHAR_NGRAMS[1]) -> Counter[str]:
    """Counts of the character n-grams of each space-padded word, as scikit-learn's `char_wb`
    analyzer makes them (lower-cased). Counted exactly here rather than through
    `HashingVectorizer`: importing scikit-learn costs ~2 s, most of a cold `check`."""
    grams: Counter[str] = Counter()
    for word in _WHITE.sub(" ", text.lower()).split():
        w = f" {word} "
        size = len(w)
        for n in range(lo, hi + 1):
            offset = 0
            grams[w[0:n]] += 1
            while offset + n < size:
                offset += 1
                grams[w[offset : offset + n]] += 1
            if offset == 0:  # the word is shorter than n: scikit-learn keeps it once
                break
    return grams


def _same(a: str, b: str) -> float:
    return 1.0 if a and b and a.strip().lower() == b.strip().lower() else 0.0


def _lang(value: str) -> str:
    v = (value or "").strip().lower()
    return v[:2] if v[:2] in ("en", "fr") else ""


@lru_cache(maxsize=50_000)
def _grams_and_norm(text: str) -> tuple[Counter[str], float]:
    """A title's n-gram counts and their L2 norm, memoised (`pairs()` sees each title ~k times,
    a long-lived `check` process sees the same candidates again)."""
    grams = char_ngrams(text)
    return grams, math.sqrt(sum(c * c for c in grams.values()))


def char_similarity(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Row-wise cosine of character 3–5-gram count vectors (nothing to fit or save).

    Each distinct title becomes one L2-normalised sparse row (n-grams numbered per call); the
    pairs are then one row-wise sparse product (`pairs()` scores ~k pairs per record)."""
    if len(a) != len(b):
        raise ValueError(f"char_similarity: {len(a)} texts against {len(b)}")
    if not len(a):
        return np.zeros(0, dtype=np.float64)
    uniq: dict[str, int] = {}
    ia = np.asarray([uniq.setdefault(t, len(uniq)) for t in a], dtype=np.int64)
    ib = np.asarray([uniq.setdefault(t, len(uniq)) for t in b], dtype=np.int64)
    vocab: dict[str, int] = {}
    indptr: list[int] = [0]
    indices: list[int] = []
    data: list[float] = []
    for text in uniq:
        grams, norm = _grams_and_norm(text)
        if norm > 0:
            indices.extend(vocab.setdefault(g, len(vocab)) for g in grams)
            data.extend(c / norm for c in grams.values())
        indptr.append(len(indices))
    m = sp.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int64), indptr),
        shape=(len(uniq), max(1, len(vocab))),
    )
    m.sum_duplicates()
    return np.asarray(m[ia].multiply(m[ib]).sum(axis=1), dtype=np.float64).ravel()


def token_counts(texts: Sequence[str]) -> np.ndarray:
    """`len(tokenize(t))` per text, each distinct text tokenized once."""
    seen: dict[str, int] = {}
    out = np.empty(len(texts), dtype=np.float64)
    for i, t in enumerate(texts):
        n = seen.get(t)
        if n is None:
            n = seen[t] = len(tokenize(t))
        out[i] = n
    return out


def languages(texts: Sequence[str], given: Sequence[str] | None = None) -> list[str]:
    """`en`/`fr` per text: the given language when it is one of those, else detected."""
    from dedupe.text import detect_language

    out = []
    detected: dict[str, str] = {}
    for i, t in enumerate(texts):
        lang = _lang(given[i]) if given is not None else ""
        if not lang:
            lang = detected.get(t) or detected.setdefault(t, detect_language(t))
        out.append(lang)
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
    rows_a: sp.csr_matrix | None = None,
    rows_b: sp.csr_matrix | None = None,
    ntok_a: np.ndarray | None = None,
    ntok_b: np.ndarray | None = None,
) -> np.ndarray:
    """A (n, len(features)) matrix for n aligned pairs (texts already boilerplate-stripped).

    Optional precomputed inputs (same values, less work): `rows_a`/`rows_b` the texts' TF-IDF
    rows (one row: the same text on every pair), `ntok_a`/`ntok_b` their `tokenize` lengths."""
    n = len(texts_a)
    if n == 0:
        return np.zeros((0, len(features)))
    want = set(features)
    dense_v = np.asarray(dense, dtype=np.float64).reshape(n)
    cols: dict[str, np.ndarray] = {"dense": dense_v}
    if "lexical" in want:
        cols["lexical"] = lexical.pair_similarity(
            texts_a, texts_b, rows_a=rows_a, rows_b=rows_b
        ).astype(np.float64)
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
        na = token_counts(texts_a) if ntok_a is None else np.asarray(ntok_a, dtype=np.float64)
        nb = token_counts(texts_b) if ntok_b is None else np.asarray(ntok_b, dtype=np.float64)
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
