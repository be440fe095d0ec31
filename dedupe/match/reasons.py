"""Why two initiatives matched: best aligned sentence pair and shared key terms."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from dedupe.match.bilingual import Lexicon
from dedupe.match.homonyms import conflicting_acronyms, name_words
from dedupe.match.lexical import LexicalModel
from dedupe.records import Reason
from dedupe.text import split_sentences, tokenize

EncodeFn = Callable[[Sequence[str]], np.ndarray]

SENTENCE_CACHE_SIZE = 20_000  # sentences (~40 MB of 512-d float32 vectors)


class SentenceCache:
    """An in-memory LRU of sentence vectors in front of an encoder, for a long-lived process
    (the review app): the sentences of records already shown are not encoded again, and the
    misses of one call are encoded in one batch. Keyed by the sentence text itself."""

    def __init__(self, encode: EncodeFn, maxsize: int = SENTENCE_CACHE_SIZE) -> None:
        self._encode = encode
        self.maxsize = maxsize
        self._vecs: OrderedDict[str, np.ndarray] = OrderedDict()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._vecs)

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        todo = list(dict.fromkeys(s for s in sentences if s not in self._vecs))
        self.misses += len(todo)
        self.hits += len(sentences) - len(todo)
        fresh = dict(zip(todo, self._encode(todo), strict=True)) if todo else {}
        out = []
        for s in sentences:
            v = fresh.get(s)
            if v is None:
                v = self._vecs[s]
                self._vecs.move_to_end(s)
            out.append(v)
        for s, v in fresh.items():
            self._vecs[s] = np.asarray(v, dtype=np.float32)
        while len(self._vecs) > self.maxsize:
            self._vecs.popitem(last=False)
        return np.vstack(out) if out else np.zeros((0, 0), dtype=np.float32)


def shared_terms(a: str, b: str, lexical: LexicalModel | None, limit: int = 6) -> tuple[str, ...]:
    """Terms both texts use, rarest first (by the portfolio's IDF); not an acronym the two
    spell out as different systems, nor a word their two names share
    (`dedupe.match.homonyms`)."""
    return _shared(tokenize(a), _not_homonyms(tokenize(b), a, b), lexical, limit)


def _not_homonyms(tokens: list[str], a: str, b: str) -> list[str]:
    found = conflicting_acronyms(a, b)
    if not found:
        return tokens
    drop = {acronym.lower() for acronym in found} | name_words(a, b, found)
    return [t for t in tokens if t not in drop]


def _shared(
    ta: list[str],
    tb: list[str],
    lexical: LexicalModel | None,
    limit: int = 6,
    fr_to_en: dict[str, str] | None = None,
) -> tuple[str, ...]:
    """Terms of `tb` that `ta` uses, rarest first; with `fr_to_en` (`ta` French, `tb`
    English) `ta`'s words are read through it and shown `french = english`."""
    in_b = set(tb)
    said: dict[str, str] = {}  # term of `tb` -> how `ta` says it
    for t in ta:
        e = fr_to_en.get(t, t) if fr_to_en else t
        if e in in_b and not e.isdigit():
            said.setdefault(e, t)
    common = list(said)
    if lexical is not None:
        common.sort(key=lambda t: -lexical.idf(t))
    return tuple(e if said[e] == e else f"{said[e]} = {e}" for e in common[:limit])


def shared_terms_many(
    query: str,
    candidates: Sequence[str],
    lexical: LexicalModel | None,
    limit: int = 6,
    *,
    lexicon: Lexicon | None = None,
    query_language: str = "",
    languages: Sequence[str] | None = None,
) -> list[tuple[str, ...]]:
    """`shared_terms` of one query against each candidate (the query tokenized once; an acronym
    the two spell out as different systems is not shared). With a
    `lexicon` and the languages, an English/French pair shares words through it too, shown
    `french = english` (`courriel = email`)."""
    q_tokens = tokenize(query)
    out = []
    for i, c in enumerate(candidates):
        lang = languages[i] if languages is not None else ""
        c_tokens = _not_homonyms(tokenize(c), query, c)
        if lexicon is not None and {query_language, lang} == {"en", "fr"}:
            fr, en = (q_tokens, c_tokens) if query_language == "fr" else (c_tokens, q_tokens)
            out.append(_shared(fr, en, lexical, limit, lexicon.fr_to_en))
        else:
            out.append(_shared(q_tokens, c_tokens, lexical, limit))
    return out


def explain_many(
    query: str,
    candidates: Sequence[str],
    encode: EncodeFn,
    lexical: LexicalModel | None,
    max_sentences: int = 12,
) -> list[Reason]:
    """One `Reason` per candidate; all sentences are encoded in a single batch."""
    q_sents = split_sentences(query)[:max_sentences]
    c_sents = [split_sentences(c)[:max_sentences] for c in candidates]
    flat = q_sents + [s for group in c_sents for s in group]
    if not flat:
        return [Reason() for _ in candidates]
    vecs = encode(flat)
    qv = vecs[: len(q_sents)]
    c_vecs = []
    start = len(q_sents)
    for sents in c_sents:
        c_vecs.append(vecs[start : start + len(sents)])
        start += len(sents)
    return explain_aligned(query, q_sents, qv, candidates, c_sents, c_vecs, lexical)


def explain_aligned(
    query: str,
    q_sents: Sequence[str],
    q_vecs: np.ndarray,
    candidates: Sequence[str],
    c_sents: Sequence[Sequence[str]],
    c_vecs: Sequence[np.ndarray],
    lexical: LexicalModel | None,
    *,
    terms: Sequence[tuple[str, ...]] | None = None,
) -> list[Reason]:
    """One `Reason` per candidate from sentence vectors already at hand (the query's, and each
    candidate's: the index keeps every record's, see `dedupe.index.sentences`). `terms`: the
    candidates' `shared_terms_many`, when already computed."""
    out: list[Reason] = []
    if terms is None:
        terms = shared_terms_many(query, candidates, lexical)
    for cand_terms, sents, cv in zip(terms, c_sents, c_vecs, strict=True):
        if len(q_sents) == 0 or len(sents) == 0:
            out.append(Reason(shared_terms=cand_terms))
            continue
        sims = q_vecs @ np.asarray(cv, dtype=np.float32).T
        i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
        out.append(
            Reason(
                sentence_a=q_sents[int(i)],
                sentence_b=sents[int(j)],
                sentence_score=float(sims[i, j]),
                shared_terms=cand_terms,
            )
        )
    return out
