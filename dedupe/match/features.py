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
|  | all the two have in common; twins share more (`_no_name_columns`) |

An acronym both sides spell out as different systems (`dedupe.match.homonyms`) does not count in
`lexical` or the title features.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from dedupe.departments import same_department
from dedupe.match.acronyms import capitals
from dedupe.match.bilingual import TranslatedRows, rows_similarity, translated_rows
from dedupe.match.homonyms import definitions, homonym_pairs, name_words, without
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
    return 1.0 if same_department(a, b) else 0.0


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


@lru_cache(maxsize=1 << 14)
def _form_terms(form: str) -> tuple[str, ...]:
    return tuple(tokenize(form))


def _name_terms(text_a: str, text_b: str, names: frozenset[str]) -> frozenset[str]:
    """The words (as `tokenize` reads them) that go with a pair's shared `names`: the names,
    and the long forms either text gives them."""
    out = {w.lower() for w in names}
    for text in (text_a, text_b):
        forms = definitions(text)
        for name in names & forms.keys():
            out.update(_form_terms(forms[name]))
    return frozenset(out)


def _column_marks(
    lexical: LexicalModel, words: Sequence[frozenset[str]], width: int
) -> sp.csr_matrix:
    """(len(words), width): 1 at the TF-IDF column of each of row k's `words` (any case; a
    word set seen before is looked up once)."""
    columns: dict[frozenset[str], list[int]] = {}
    r: list[int] = []
    c: list[int] = []
    for k, found in enumerate(words):
        if found:
            if found not in columns:
                cols_ = {col for w in found if (col := lexical.column_of(w.lower())) is not None}
                columns[found] = sorted(cols_)
            r += [k] * len(columns[found])
            c += columns[found]
    return sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(words), width))


def _cosine_without(ma: sp.csr_matrix, mb: sp.csr_matrix, drop: sp.csr_matrix) -> np.ndarray:
    """Row-wise cosine of `ma` and `mb` with the columns `drop` marks left out (renormalised)."""
    ka = ma - ma.multiply(drop)
    kb = mb - mb.multiply(drop)
    dot = np.asarray(ka.multiply(kb).sum(axis=1)).ravel()
    na = np.sqrt(np.asarray(ka.multiply(ka).sum(axis=1)).ravel())
    nb = np.sqrt(np.asarray(kb.multiply(kb).sum(axis=1)).ravel())
    den = na * nb
    return np.where(den > 0, dot / np.where(den > 0, den, 1.0), 0.0)


def _rows(
    lexical: LexicalModel, texts: Sequence[str], at: list[int], rows: sp.csr_matrix | None
) -> sp.csr_matrix:
    """The TF-IDF rows of `texts[at]`: from `rows` when given (one row: the same text on every
    pair), else transformed (each distinct text once)."""
    if rows is not None:
        return sp.csr_matrix(rows[[0] * len(at)] if rows.shape[0] == 1 else rows[at])
    first: dict[str, int] = {}
    which = [first.setdefault(texts[i], len(first)) for i in at]
    return sp.csr_matrix(lexical.transform(list(first))[np.asarray(which, dtype=np.int64)])


def _may_use(
    lexical: LexicalModel,
    names: Sequence[frozenset[str]],
    rows: sp.csr_matrix | None,
    n: int,
) -> np.ndarray:
    """Per pair, whether the other side's TF-IDF row can hold one of `names` (True where the
    row is not known)."""
    if rows is None or rows.shape[0] not in (1, n):
        return np.ones(n, dtype=bool)
    full = rows if rows.shape[0] == n else sp.csr_matrix(rows[[0] * n])
    marks = _column_marks(lexical, names, rows.shape[1])
    return np.asarray(full.multiply(marks).getnnz(axis=1) > 0).ravel()


def _no_name_columns(
    cols: dict[str, np.ndarray],
    want: set[str],
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    titles_a: Sequence[str],
    titles_b: Sequence[str],
    lexical: LexicalModel,
    xl_rows: TranslatedRows | None = None,
    rows_a: sp.csr_matrix | None = None,
    rows_b: sp.csr_matrix | None = None,
    title_rows_a: sp.csr_matrix | None = None,
    title_rows_b: sp.csr_matrix | None = None,
) -> None:
    """The `_nn` features: for the pairs whose two sides share a name (a word in capitals in one
    side's title that the other side uses), the base similarities without it — the TF-IDF
    cosines with its column, and those of the words of the long forms the texts give it, left
    out (renormalised), the titles' character n-grams without the word; the same values for
    every other pair."""
    n = len(texts_a)
    # A name stands in a title: the words in capitals of one side's title that the other side
    # uses in its title or text. A text is read only where the other side's title has such a
    # word and the text's TF-IDF row has its column (`check`: one sparse product per side).
    title_caps_a = [capitals(t) for t in titles_a]
    title_caps_b = [capitals(t) for t in titles_b]
    in_b = _may_use(lexical, title_caps_a, rows_b, n)
    in_a = _may_use(lexical, title_caps_b, rows_a, n)
    shared: dict[int, frozenset[str]] = {}
    for i in range(n):
        ca, cb = title_caps_a[i], title_caps_b[i]
        if not ca and not cb:
            continue
        found = set(ca & cb)
        if ca - found and in_b[i]:
            found |= ca & capitals(texts_b[i])
        if cb - found and in_a[i]:
            found |= cb & capitals(texts_a[i])
        if found:
            shared[i] = frozenset(found)
    for name in NO_NAMES.values():
        if name in cols:
            cols[f"{name}_nn"] = cols[name].copy()
    at = sorted(shared)
    if not at:
        return
    found_at = [shared[i] for i in at]  # the titles': the names alone
    terms_at = [_name_terms(texts_a[i], texts_b[i], shared[i]) for i in at]
    if "lexical_nn" in want:
        ra, rb = _rows(lexical, texts_a, at, rows_a), _rows(lexical, texts_b, at, rows_b)
        cols["lexical_nn"][at] = _cosine_without(
            ra, rb, _column_marks(lexical, terms_at, ra.shape[1])
        )
    if want & {"title_nn", "title_sq_nn"}:
        ta = _rows(lexical, titles_a, at, title_rows_a)
        tb = _rows(lexical, titles_b, at, title_rows_b)
        cols["title_nn"][at] = _cosine_without(
            ta, tb, _column_marks(lexical, found_at, ta.shape[1])
        )
    if want & {"title_char_nn", "title_char_sq_nn"}:
        cols["title_char_nn"][at] = char_similarity(
            [without(titles_a[i], shared[i]) for i in at],
            [without(titles_b[i], shared[i]) for i in at],
        )
    if "title_sq_nn" in want:
        cols["title_sq_nn"] = cols["title_nn"] ** 2
    if "title_char_sq_nn" in want:
        cols["title_char_sq_nn"] = cols["title_char_nn"] ** 2
    if "lexical_xl_nn" in want and xl_rows is not None:  # the base feature's translated rows
        cross, xa, xb, ok = xl_rows
        row_of = {i: k for k, i in enumerate(cross)}
        picked = [(i, row_of[i], terms_at[j]) for j, i in enumerate(at) if i in row_of]
        if picked:
            idx, ks, terms = zip(*picked, strict=True)
            rows = np.asarray(ks, dtype=np.int64)
            sims = _cosine_without(xa[rows], xb[rows], _column_marks(lexical, terms, xa.shape[1]))
            cols["lexical_xl_nn"][list(idx)] = np.where(ok[rows], sims, 0.0)


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
    want |= {NO_NAMES[f] for f in want & set(NO_NAMES)}  # a no-name feature starts from its base
    dense_v = np.asarray(dense, dtype=np.float64).reshape(n)
    cols: dict[str, np.ndarray] = {"dense": dense_v}
    if "lexical" in want:
        cols["lexical"] = lexical.pair_similarity(
            texts_a, texts_b, rows_a=rows_a, rows_b=rows_b
        ).astype(np.float64)
    if want & {"title", "title_sq"}:
        if want & {"title_nn", "title_sq_nn"}:  # the same rows serve the no-name titles
            title_rows_a = _rows(lexical, titles_a, list(range(n)), title_rows_a)
            title_rows_b = _rows(lexical, titles_b, list(range(n)), title_rows_b)
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
    xl_rows: TranslatedRows | None = None
    if want & {"cross_lang", "dense_x_cross", "lexical_xl"}:
        la = languages(texts_a, langs_a)
        lb = languages(texts_b, langs_b)
        cross = np.array([1.0 if a and b and a != b else 0.0 for a, b in zip(la, lb, strict=True)])
        cols["cross_lang"] = cross
        cols["dense_x_cross"] = dense_v * cross
        if "lexical_xl" in want:
            xl_rows = translated_rows(
                lexical, texts_a, texts_b, la, lb, rows_a=rows_a, rows_b=rows_b
            )
            cols["lexical_xl"] = rows_similarity(xl_rows, n)
    if want & set(NO_NAMES):
        _no_name_columns(
            cols,
            want,
            texts_a,
            texts_b,
            titles_a,
            titles_b,
            lexical=lexical,
            xl_rows=xl_rows,
            rows_a=rows_a,
            rows_b=rows_b,
            title_rows_a=title_rows_a,
            title_rows_b=title_rows_b,
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
