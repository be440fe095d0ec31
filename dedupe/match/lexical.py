"""Lexical similarity: TF-IDF over the portfolio's own vocabulary, saved beside the index."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from dedupe.errors import IndexCorruptError
from dedupe.text import tokenize


def _analyzer(text: str) -> list[str]:
    tokens = tokenize(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


class LexicalModel:
    """TF-IDF (unigrams + bigrams, sublinear tf) fitted on the portfolio texts."""

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        self.vectorizer = vectorizer
        vocab = vectorizer.vocabulary_
        self._idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self._vocab: dict[str, int] = vocab

    @classmethod
    def fit(cls, texts: Sequence[str]) -> LexicalModel:
        vec = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=1, dtype=np.float32)
        vec.fit(list(texts) or [""] if texts else ["empty"])
        return cls(vec)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        texts = list(texts)
        unique = list(dict.fromkeys(texts))  # all-pairs scoring repeats each text ~k times
        if len(unique) == len(texts):
            return self.vectorizer.transform(texts).tocsr()
        row = {t: i for i, t in enumerate(unique)}
        return self.vectorizer.transform(unique).tocsr()[[row[t] for t in texts]]

    def idf(self, term: str) -> float:
        i = self._vocab.get(term)
        return float(self._idf[i]) if i is not None else float(self._idf.max(initial=1.0))

    def pair_similarity(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        """Row-wise cosine of a[i] and b[i]."""
        ma, mb = self.transform(a), self.transform(b)
        return np.asarray(ma.multiply(mb).sum(axis=1)).ravel().astype(np.float32)

    def save(self, path: str | Path) -> None:
        terms = sorted(self._vocab, key=self._vocab.__getitem__)
        with open(path, "wb") as fh:
            np.savez_compressed(fh, terms=np.array(terms, dtype=str), idf=self._idf)

    @classmethod
    def load(cls, path: str | Path) -> LexicalModel:
        try:
            with np.load(path, allow_pickle=False) as data:
                terms = [str(t) for t in data["terms"]]
                idf = data["idf"]
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorruptError(f"{path}: unreadable lexical model ({exc}); re-run ingest") from None
        vec = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, dtype=np.float32)
        vec.vocabulary_ = {t: i for i, t in enumerate(terms)}
        vec.idf_ = idf
        return cls(vec)
