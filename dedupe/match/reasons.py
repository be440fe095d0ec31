"""Why two initiatives matched: best aligned sentence pair and shared key terms."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from dedupe.match.lexical import LexicalModel
from dedupe.records import Reason
from dedupe.text import split_sentences, tokenize

EncodeFn = Callable[[Sequence[str]], np.ndarray]


def shared_terms(a: str, b: str, lexical: LexicalModel | None, limit: int = 6) -> tuple[str, ...]:
    """Terms both texts use, rarest first (by the portfolio's IDF)."""
    ta, tb = tokenize(a), set(tokenize(b))
    common = list(dict.fromkeys(t for t in ta if t in tb and not t.isdigit()))
    if lexical is not None:
        common.sort(key=lambda t: -lexical.idf(t))
    return tuple(common[:limit])


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
    out: list[Reason] = []
    start = len(q_sents)
    for cand, sents in zip(candidates, c_sents, strict=True):
        cv = vecs[start : start + len(sents)]
        start += len(sents)
        terms = shared_terms(query, cand, lexical)
        if len(q_sents) == 0 or len(sents) == 0:
            out.append(Reason(shared_terms=terms))
            continue
        sims = qv @ cv.T
        i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
        out.append(
            Reason(
                sentence_a=q_sents[int(i)],
                sentence_b=sents[int(j)],
                sentence_score=float(sims[i, j]),
                shared_terms=terms,
            )
        )
    return out
