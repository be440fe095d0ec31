"""Pair features shared by `check` (proposal vs candidates), `pairs()`, `evaluate` and `calibrate`.

Every feature is cheap (no model load, no per-candidate encoding): the dense cosine comes from
the vectors already computed, the rest from sparse TF-IDF products and string lengths.

| name | meaning |
|---|---|
| dense | cosine of the two (boilerplate-stripped) text embeddings |
| lexical | TF-IDF cosine (word uni+bigrams, portfolio IDF) of the stripped texts |
| title | TF-IDF cosine of the titles |
| title_char | character 3–5-gram cosine of the titles (survives inflection, FR/EN cognates) |
| title_sq, title_char_sq | their squares: a title near-identical counts for much more than one |
|  | that shares a generic word or two ("LMS renewal" / "New LMS") |
| cross_lang | 1 when the two texts are in different languages |
| dense_x_cross | dense × cross_lang (the dense score counts differently across languages) |
| lexical_xl | cross-language pairs: TF-IDF cosine with the French side translated word by word |
|  | (`dedupe.match.bilingual`); 0 for pairs in one language |
| short | 1 when the shorter text has fewer than `SHORT_TOKENS` content words |
| dense_x_short | dense × short (a two-line note against a charter scores lower by nature) |
| len_ratio | log(shorter / longer) content-word count (≤ 0) |
| same_department | 1 when both sides name the same department |
| lexical_nn, title_nn, title_char_nn, title_sq_nn, title_char_sq_nn, lexical_xl_nn | the same |
|  | similarities without the names both sides use (words in capitals: acronyms, code names, and |
|  | the long forms the texts give them): "MERIT" or "SAGE" shared by two unrelated systems is |
|  | all the two have in common; twins share more (`no_names`) |

An acronym both sides spell out as different systems (`dedupe.match.homonyms`) does not count in
`lexical` or the title features.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from dedupe.match.acronyms import capitals, own_definitions
from dedupe.match.bilingual import translated_similarity
from dedupe.match.homonyms import homonym_pairs, name_words, without
from dedupe.match.lexical import LexicalModel
from dedupe.text import tokenize

SHORT_TOKENS = 15

CHAR_NGRAMS = (3, 5)
_P = np.uint64(0x100000001B3)  # FNV-style multiplier of the rolling gram hash


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the rolling hashes over all 64 bits."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: np.ndarray = h ^ (h >> np.uint64(31))
    return out


def char_gram_matrix(
    texts: Sequence[str], lo: int = CHAR_NGRAMS[0], hi: int = CHAR_NGRAMS[1]
) -> sp.csr_matrix:
    """One L2-normalised row of character n-gram counts per text, the n-grams of scikit-learn's
    `char_wb` analyzer (lower-cased, each word padded with a space; a padded word shorter than
    n counts once as itself). Columns are 64-bit gram hashes numbered per call.

    Computed for all texts at once with numpy (importing scikit-learn costs ~2 s of a cold
    `check`; a per-word Python loop was most of `pairs()` on a nightly run): the texts become
    one string of padded words joined by double spaces, every window of n code points is
    hashed, and the windows that contain a double space (they cross a word) are dropped —
    which also yields the short-word rule, since a padded word's only n-gram longer than the
    word itself would reach into the next double space."""
    joined = []
    for text in texts:
        words = text.lower().split()
        joined.append(" " + "  ".join(words) + " " if words else "")
    lengths = np.fromiter((len(j) for j in joined), dtype=np.int64, count=len(joined))
    total = int(lengths.sum())
    if total == 0:
        return sp.csr_matrix((len(texts), 1), dtype=np.float64)
    code = np.frombuffer("".join(joined).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    row_of = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    space = code == 32
    blocked = np.zeros(total + 1, dtype=np.int64)  # blocked[i]: double spaces starting < i
    np.cumsum(space[:-1] & space[1:], out=blocked[1:total])
    blocked[total] = blocked[total - 1]
    rows, keys = [], []
    with np.errstate(over="ignore"):
        for n in range(lo, hi + 1):
            m = total - n + 1
            if m <= 0:
                break
            h = code[:m].copy()
            for k in range(1, n):
                h = h * _P + code[k : k + m]
            ok = blocked[n - 1 : n - 1 + m] == blocked[:m]
            rows.append(row_of[:m][ok])
            keys.append(_mix(h[ok] ^ np.uint64(n)))
    row = np.concatenate(rows)
    key = np.concatenate(keys)
    order = np.lexsort((key, row))
    row, key = row[order], key[order]
    first = np.ones(len(row), dtype=bool)
    first[1:] = (row[1:] != row[:-1]) | (key[1:] != key[:-1])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(row))).astype(np.float64)
    row, key = row[starts], key[starts]
    cols, col = np.unique(key, return_inverse=True)
    norms = np.sqrt(np.bincount(row, weights=counts * counts, minlength=len(texts)))
    data = counts / norms[row]
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=len(texts)), out=indptr[1:])
    return sp.csr_matrix((data, col.astype(np.int64), indptr), shape=(len(texts), len(cols)))


def _same(a: str, b: str) -> float:
    return 1.0 if a and b and a.strip().lower() == b.strip().lower() else 0.0


def _lang(value: str) -> str:
    v = (value or "").strip().lower()
    return v[:2] if v[:2] in ("en", "fr") else ""


def char_similarity(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Row-wise cosine of character 3–5-gram count vectors (nothing to fit or save): each
    distinct text one row of `char_gram_matrix`, the pairs one row-wise sparse product."""
    if len(a) != len(b):
        raise ValueError(f"char_similarity: {len(a)} texts against {len(b)}")
    if not len(a):
        return np.zeros(0, dtype=np.float64)
    uniq: dict[str, int] = {}
    ia = np.asarray([uniq.setdefault(t, len(uniq)) for t in a], dtype=np.int64)
    ib = np.asarray([uniq.setdefault(t, len(uniq)) for t in b], dtype=np.int64)
    m = char_gram_matrix(list(uniq))
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
    """`en`/`fr` per text: the given language when it is one of those, else detected (a text
    is read only then: `texts` may compute them on access)."""
    from dedupe.text import detect_language

    out = []
    detected: dict[str, str] = {}
    for i in range(len(texts)):
        lang = _lang(given[i]) if given is not None else ""
        if not lang:
            t = texts[i]
            lang = detected.get(t) or detected.setdefault(t, detect_language(t))
        out.append(lang)
    return out


def _without_homonyms(
    cols: dict[str, np.ndarray],
    lexical: LexicalModel,
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    titles_a: Sequence[str],
    titles_b: Sequence[str],
    maybe: Sequence[bool] | None,
) -> None:
    """Word and title similarities again, without the acronyms a pair spells out as two
    different systems and the words their two names share (`dedupe.match.homonyms`), for the
    few pairs that have any."""
    found = homonym_pairs(texts_a, texts_b, maybe)
    if not found:
        return
    at = sorted(found)
    names = {i: name_words(texts_a[i], texts_b[i], found[i]) for i in at}
    if "lexical" in cols:
        cols["lexical"][at] = lexical.pair_similarity(
            [without(texts_a[i], found[i], names[i]) for i in at],
            [without(texts_b[i], found[i], names[i]) for i in at],
        )
    ta = [without(titles_a[i], found[i], names[i]) for i in at]
    tb = [without(titles_b[i], found[i], names[i]) for i in at]
    if "title" in cols:
        cols["title"][at] = lexical.pair_similarity(ta, tb)
    if "title_char" in cols:
        cols["title_char"][at] = char_similarity(ta, tb)


NO_NAMES = {
    f"{name}_nn": name
    for name in ("lexical", "title", "title_char", "title_sq", "title_char_sq", "lexical_xl")
}


@lru_cache(maxsize=4096)  # in `check`, the proposal's text on every pair
def no_names(text: str, names: frozenset[str]) -> str:
    """`text` without the words `names` (acronyms, code names) and the long forms it gives
    them ("MERIT (Modernized Employee Records ...)": both go)."""
    for acronym, form in own_definitions(text):
        if acronym in names:
            text = re.sub(re.escape(form), " ", text, flags=re.IGNORECASE)
    return without(text, names)


def _no_name_columns(
    cols: dict[str, np.ndarray],
    want: set[str],
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    titles_a: Sequence[str],
    titles_b: Sequence[str],
    langs_a: Sequence[str],
    langs_b: Sequence[str],
    depts_a: Sequence[str],
    depts_b: Sequence[str],
    lexical: LexicalModel,
    rows_b: sp.csr_matrix | None = None,
) -> None:
    """The `_nn` features: the base similarities again, for the pairs whose two sides share a
    word in capitals, on their texts and titles without those words (`no_names`); the same
    values for every other pair."""
    base = [NO_NAMES[f] for f in NO_NAMES if f in want]
    n = len(texts_a)
    names_a: dict[str, frozenset[str]] = {}  # in `check`, one proposal on every pair
    side_a: list[frozenset[str]] = []
    for i in range(n):
        key = f"{titles_a[i]}\x00{texts_a[i]}"
        sa = names_a.get(key)
        if sa is None:  # the words in capitals the TF-IDF vocabulary has (or the title uses)
            words_ = (w for w in capitals(texts_a[i]) if lexical.column_of(w.lower()) is not None)
            sa = names_a[key] = capitals(titles_a[i]) | frozenset(words_)
        side_a.append(sa)
    # A record's text is read only where its TF-IDF row has one of side a's words (`check`:
    # one sparse product per distinct proposal instead of ~70 record texts).
    may = np.ones(n, dtype=bool)
    if rows_b is not None and rows_b.shape[0] == n:
        for sa in {s for s in side_a if s}:
            idx = np.array([i for i in range(n) if side_a[i] == sa], dtype=np.int64)
            found_cols = (lexical.column_of(w.lower()) for w in sa)
            cols_ = [c for c in found_cols if c is not None]
            may[idx] = rows_b[idx][:, cols_].getnnz(axis=1) > 0 if cols_ else False
    shared: dict[int, frozenset[str]] = {}
    for i in range(n):
        sa = side_a[i]
        if not sa:
            continue
        found = sa & capitals(titles_b[i])
        if may[i] and found != sa:
            found |= sa & capitals(texts_b[i])
        if found:
            shared[i] = frozenset(found)
    at = sorted(shared)
    sub = (
        pair_features(
            dense=cols["dense"][at],
            texts_a=[no_names(texts_a[i], shared[i]) for i in at],
            texts_b=[no_names(texts_b[i], shared[i]) for i in at],
            titles_a=[without(titles_a[i], shared[i]) for i in at],
            titles_b=[without(titles_b[i], shared[i]) for i in at],
            langs_a=[langs_a[i] for i in at],
            langs_b=[langs_b[i] for i in at],
            depts_a=[depts_a[i] for i in at],
            depts_b=[depts_b[i] for i in at],
            features=base,
            # the shared names are gone, and with them any acronym two texts could define in two
            # ways (the same features on 11k held-out, query and tune pairs; ~1 ms a check)
            maybe_homonyms=[False] * len(at),
            lexical=lexical,
        )
        if at
        else None
    )
    for j, name in enumerate(base):
        col = cols[name].copy()
        if sub is not None:
            col[at] = sub[:, j]
        cols[f"{name}_nn"] = col


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
    title_rows_a: sp.csr_matrix | None = None,
    title_rows_b: sp.csr_matrix | None = None,
    maybe_homonyms: Sequence[bool] | None = None,
) -> np.ndarray:
    """A (n, len(features)) matrix for n aligned pairs (texts already boilerplate-stripped).

    Optional precomputed inputs (same values, less work): `rows_a`/`rows_b` the texts' TF-IDF
    rows (one row: the same text on every pair), `ntok_a`/`ntok_b` their `tokenize` lengths,
    `title_rows_a`/`title_rows_b` the titles' TF-IDF rows, `maybe_homonyms` False for the pairs
    that cannot share an acronym (their texts are then not read for it)."""
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
    if want & {"title", "title_sq"}:
        cols["title"] = lexical.pair_similarity(
            titles_a, titles_b, rows_a=title_rows_a, rows_b=title_rows_b
        ).astype(np.float64)
    if want & {"title_char", "title_char_sq"}:
        cols["title_char"] = char_similarity(titles_a, titles_b)
    if want & {"lexical", "title", "title_char", "title_sq", "title_char_sq"}:
        _without_homonyms(cols, lexical, texts_a, texts_b, titles_a, titles_b, maybe_homonyms)
    if "title_sq" in want:
        cols["title_sq"] = cols["title"] ** 2
    if "title_char_sq" in want:
        cols["title_char_sq"] = cols["title_char"] ** 2
    if want & {"cross_lang", "dense_x_cross", "lexical_xl"}:
        la = languages(texts_a, langs_a)
        lb = languages(texts_b, langs_b)
        cross = np.array([1.0 if a and b and a != b else 0.0 for a, b in zip(la, lb, strict=True)])
        cols["cross_lang"] = cross
        cols["dense_x_cross"] = dense_v * cross
        if "lexical_xl" in want:
            cols["lexical_xl"] = translated_similarity(
                lexical, texts_a, texts_b, la, lb, rows_a=rows_a, rows_b=rows_b
            )
    if want & set(NO_NAMES):
        need = {NO_NAMES[f] for f in want & set(NO_NAMES)} - set(cols)
        if need:  # base columns the caller did not ask for
            more = pair_features(
                dense=dense_v,
                lexical=lexical,
                texts_a=texts_a,
                texts_b=texts_b,
                titles_a=titles_a,
                titles_b=titles_b,
                depts_a=depts_a,
                depts_b=depts_b,
                langs_a=langs_a,
                langs_b=langs_b,
                features=sorted(need),
                rows_a=rows_a,
                rows_b=rows_b,
                title_rows_a=title_rows_a,
                title_rows_b=title_rows_b,
                maybe_homonyms=maybe_homonyms,
            )
            cols.update({f: more[:, j] for j, f in enumerate(sorted(need))})
        _no_name_columns(
            cols,
            want,
            texts_a,
            texts_b,
            titles_a,
            titles_b,
            languages(texts_a, langs_a),
            languages(texts_b, langs_b),
            lexical=lexical,
            depts_a=depts_a,
            depts_b=depts_b,
            rows_b=rows_b,
        )
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
