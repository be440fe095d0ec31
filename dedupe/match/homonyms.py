"""Acronym homonyms within a pair: the same letters spelled out as two different systems.

"Renew the Licence Management System (LMS)" and "Replace the Learning Management System (LMS)"
share the word *LMS*, and TF-IDF counts it as evidence; it is not. Where both texts of a pair
define (or were expanded with, `dedupe.match.acronyms`) one acronym and the two long forms name
different things, the acronym is left out of that pair's word and title similarities, and so are
the words the two names share ("management system" of "Sample Information Management System" /
"Security Incident Management System": parts of two names, not one subject); the words that tell
the names apart stay and speak for themselves.

Two long forms name different things when they have as many content words and an aligned pair of
them differs: not the same word (*document* / *documents*, *center* / *centre*, but *contract* /
*content* differ), nor two generic heads (*system* / *solution*); or, with another number of
content words, when they share none ("search and rescue" / "synthetic aperture radar"). Variants
("GC Secret Infrastructure" / "Government of Canada Secret Infrastructure") and translations
("client service centre" / "centre de service à la clientèle") are not homonyms.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from functools import lru_cache

import numpy as np

from dedupe.match.acronyms import (
    SMALL_WORDS,
    Acronyms,
    capitals,
    own_definitions,
    words,
)
from dedupe.match.lexical import LexicalModel

GENERIC_HEADS = frozenset(
    "system systems solution solutions service services platform platforms tool tools program "
    "programme programs application applications software suite project initiative "
    "système systèmes plateforme outil outils logiciel projet".split()
)
_FRENCH = frozenset("de du des la le les à aux au et d l en pour sur".split())


def _content(form: str) -> list[str]:
    return [w for w in (x.lower() for x in words(form)) if w not in SMALL_WORDS]


def _is_french(form: str) -> bool:
    return any(w.lower() in _FRENCH for w in words(form)) or bool(
        re.search(r"[éèêàçôûîœ]", form.lower())
    )


@lru_cache(maxsize=1 << 14)
def different_meanings(form_a: str, form_b: str) -> bool:
    """Whether two long forms of one acronym name different things (module docstring)."""
    if _is_french(form_a) != _is_french(form_b):
        return False
    a, b = _content(form_a), _content(form_b)
    if len(a) != len(b):  # a variant, unless no word is shared at all
        stems = {w[:4] for w in b}
        return not any(w[:4] in stems for w in a)
    return any(
        not _same_word(x, y) and not (x in GENERIC_HEADS and y in GENERIC_HEADS)
        for x, y in zip(a, b, strict=True)
    )


def _same_word(x: str, y: str) -> bool:
    """One word in two spellings or forms: five first letters in common (*tracking* /
    *tracker*, *licence* / *license*) or all of the shorter word (*kit*, *act* / *acts*), or
    four and most of the rest (*center* / *centre*), not *contract* / *content*."""
    common = len(os.path.commonprefix([x, y]))
    if common >= min(5, len(x), len(y)):  # also the whole of a short word: kit, act / acts
        return True
    return common >= 4 and SequenceMatcher(None, x, y).ratio() >= 0.75


_DASHES = re.compile(r"\s[–—-]\s")


@lru_cache(maxsize=1 << 16)
def _capitals(text: str) -> frozenset[str]:
    # a text defines an acronym (or was expanded with one) only with a parenthesis or a dash
    return capitals(text) if "(" in text or _DASHES.search(text) else frozenset()


@lru_cache(maxsize=1 << 16)  # a record's text is read for each of its pairs
def definitions(text: str) -> Mapping[str, str]:
    """The acronyms a text defines itself (parentheses or a dash), with their long forms (the
    first of each)."""
    out: dict[str, str] = {}
    for acronym, form in own_definitions(text):
        out.setdefault(acronym, form)
    return out


def record_senses(
    acronyms: Acronyms,
    lexical: LexicalModel,
    titles: Sequence[str] | np.ndarray,
    descriptions: Sequence[str] | np.ndarray,
    departments: Sequence[str] | np.ndarray,
) -> list[dict[str, str]]:
    """Per record: the acronyms its text uses that the portfolio defines in two ways or more,
    with the meaning it takes (its department's, else the dominant one). Two records can make
    an acronym-homonym pair only if they give one of these two meanings (`homonym_senses`).
    Read from the records' TF-IDF rows where the index keeps them (a column per acronym),
    else from the raw texts."""
    ambiguous = {a for a, forms in acronyms.everywhere.items() if len(forms) > 1}
    n = len(titles)
    used: list[list[str]] = [[] for _ in range(n)]
    if ambiguous and lexical.matrix is not None and lexical.matrix.shape[0] == n:
        found = {a: c for a in sorted(ambiguous) if (c := lexical.column_of(a.lower())) is not None}
        if found:
            sub = lexical.matrix[:, list(found.values())].tocoo()
            names = list(found)
            for row, col in zip(sub.row.tolist(), sub.col.tolist(), strict=True):
                used[row].append(names[col])
    elif ambiguous:
        for i in range(n):
            used[i] = sorted(capitals(f"{titles[i]} {descriptions[i]}") & ambiguous)
    senses: list[dict[str, str]] = []
    for department, uses in zip(departments, used, strict=True):
        meanings = {a: acronyms.meaning(a, str(department)) for a in uses}
        senses.append({a: m for a, m in meanings.items() if m})
    return senses


def homonym_senses(senses_a: Mapping[str, str], senses_b: Mapping[str, str]) -> bool:
    """Whether two acronym -> meaning maps give one acronym two different meanings."""
    if not senses_a or not senses_b:
        return False
    return any(a in senses_b and different_meanings(m, senses_b[a]) for a, m in senses_a.items())


@lru_cache(maxsize=1 << 14)
def _by_stem(text: str) -> Mapping[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for w in words(text):
        out.setdefault(w.lower()[:4], set()).add(w.lower())
    return {k: frozenset(v) for k, v in out.items()}


def _mentions(text: str, form: str) -> bool:
    """Whether `text` uses every content word of `form` (`_same_word`): a text that names the
    other's system ("Secret Infrastruture" beside "Secure Infrastructure (GCSI)") is not about
    another one."""
    stems = _by_stem(text)
    return all(any(_same_word(w, t) for t in stems.get(w[:4], ())) for w in _content(form))


def conflicting_acronyms(text_a: str, text_b: str) -> frozenset[str]:
    """The acronyms both texts spell out, as different things (and neither text uses the words
    of the other's long form)."""
    shared = _capitals(text_a) & _capitals(text_b)  # cheap: most pairs share none
    if not shared:
        return frozenset()
    da, db = definitions(text_a), definitions(text_b)
    return frozenset(
        a
        for a in shared
        if a in da
        and a in db
        and different_meanings(da[a], db[a])
        and not _mentions(text_b, da[a])
        and not _mentions(text_a, db[a])
    )


def homonym_pairs(
    texts_a: Sequence[str], texts_b: Sequence[str], maybe: Sequence[bool] | None = None
) -> dict[int, frozenset[str]]:
    """Pair index -> its conflicting acronyms, for the pairs that have any (`maybe`: the pairs
    worth a look, False where a side cannot have one, e.g. no known acronym in its record).

    A text of side b is read only when its pair's side a could define an acronym (a parenthesis
    or a dash, and a word of two capitals: in `check`, side a is the proposal on every pair, and
    for most proposals no record text is read)."""
    out: dict[int, frozenset[str]] = {}
    for i in range(len(texts_a)):
        if maybe is not None and not maybe[i]:
            continue
        a = texts_a[i]
        if not _capitals(a):
            continue
        found = conflicting_acronyms(a, texts_b[i])
        if found:
            out[i] = found
    return out


def name_words(text_a: str, text_b: str, acronyms: frozenset[str]) -> frozenset[str]:
    """The content words (lower case) that the two texts' long forms of `acronyms` share."""
    da, db = definitions(text_a), definitions(text_b)
    out: set[str] = set()
    for acronym in acronyms:
        if acronym in da and acronym in db:
            out |= set(_content(da[acronym])) & set(_content(db[acronym]))
    return frozenset(out)


def without(text: str, acronyms: frozenset[str], names: frozenset[str] = frozenset()) -> str:
    """`text` with every standalone use of `acronyms` removed, and of the words `names`
    (any case)."""
    for pattern in _patterns(acronyms, names):
        text = pattern.sub(" ", text)
    return text


@lru_cache(maxsize=1 << 12)
def _patterns(acronyms: frozenset[str], names: frozenset[str]) -> tuple[re.Pattern[str], ...]:
    out = []
    if acronyms:
        alternatives = "|".join(re.escape(a) for a in sorted(acronyms, key=lambda a: (-len(a), a)))
        out.append(re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])"))
    if names:
        alternatives = "|".join(re.escape(w) for w in sorted(names))
        out.append(re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", flags=re.IGNORECASE))
    return tuple(out)
