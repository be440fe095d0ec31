"""Acronym homonyms within a pair: the same letters spelled out as two different systems.

"Renew the Licence Management System (LMS)" and "Replace the Learning Management System (LMS)"
share the word *LMS*, and TF-IDF counts it as evidence; it is not. Where both texts of a pair
define (or were expanded with, `dedupe.match.acronyms`) one acronym and the two long forms name
different things, the acronym is left out of that pair's word and title similarities; the long
forms themselves stay and speak for themselves.

Two long forms name different things when they have as many content words and an aligned pair
of them differs: not the same word (first four letters: *document* / *documents*, *center* /
*centre*), nor two generic heads (*system* / *solution*); or, with another number of content
words, when they share none ("search and rescue" / "synthetic aperture radar"). Variants ("GC
Secret Infrastructure" / "Government of Canada Secret Infrastructure") and translations ("client
service centre" / "centre de service à la clientèle") are not homonyms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from dedupe.match.acronyms import SMALL_WORDS, find_definitions

_WORD = re.compile(r"[^\W_]+")
GENERIC_HEADS = frozenset(
    "system systems solution solutions service services platform platforms tool tools program "
    "programme programs application applications software suite project initiative "
    "système systèmes plateforme outil outils logiciel projet".split()
)
_FRENCH = frozenset("de du des la le les à aux au et d l en pour sur".split())


def _content(form: str) -> list[str]:
    return [w for w in (x.lower() for x in _WORD.findall(form)) if w not in SMALL_WORDS]


def _is_french(form: str) -> bool:
    return any(w.lower() in _FRENCH for w in _WORD.findall(form)) or bool(
        re.search(r"[éèêàçôûîœ]", form.lower())
    )


def different_meanings(form_a: str, form_b: str) -> bool:
    """Whether two long forms of one acronym name different things (module docstring)."""
    if _is_french(form_a) != _is_french(form_b):
        return False
    a, b = _content(form_a), _content(form_b)
    if len(a) != len(b):  # a variant, unless no word is shared at all
        stems = {w[:4] for w in b}
        return not any(w[:4] in stems for w in a)
    return any(
        x[:4] != y[:4] and not (x in GENERIC_HEADS and y in GENERIC_HEADS)
        for x, y in zip(a, b, strict=True)
    )


@lru_cache(maxsize=8192)
def _definitions(text: str) -> Mapping[str, str]:
    out: dict[str, str] = {}
    if "(" in text:
        for acronym, form in find_definitions(text):
            out.setdefault(acronym, form)
    return out


def conflicting_acronyms(text_a: str, text_b: str) -> frozenset[str]:
    """The acronyms both texts spell out, as different things."""
    da = _definitions(text_a)
    if not da:
        return frozenset()
    shared = [a for a in da if a in text_b]
    if not shared:
        return frozenset()
    db = _definitions(text_b)
    return frozenset(a for a in shared if a in db and different_meanings(da[a], db[a]))


def homonym_pairs(texts_a: Sequence[str], texts_b: Sequence[str]) -> dict[int, frozenset[str]]:
    """Pair index -> its conflicting acronyms, for the pairs that have any.

    A text of side b is read only when its pair's side a defines an acronym (in `check`, side a
    is the proposal on every pair: most proposals define none, and no record text is read)."""
    out: dict[int, frozenset[str]] = {}
    for i, a in enumerate(texts_a):
        if not _definitions(a):
            continue
        found = conflicting_acronyms(a, texts_b[i])
        if found:
            out[i] = found
    return out


def without(text: str, acronyms: frozenset[str]) -> str:
    """`text` with every standalone use of `acronyms` removed."""
    for acronym in acronyms:
        text = re.sub(rf"(?<![\w]){re.escape(acronym)}(?![\w])", " ", text)
    return text
