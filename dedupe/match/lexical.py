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


# Up to this many records, the records' TF-IDF rows are kept with the model, so `check` can
# retrieve candidates lexically too (acronyms, names and short notes that dense search misses).
# About 70 non-zeros a record: 15k records take ~4 MB on disk.
MATRIX_MAX_RECORDS = 300_000


class LexicalModel:
    """TF-IDF (unigrams + bigrams, sublinear tf) fitted on the portfolio texts.

    `matrix` holds the fitted texts' rows (in index order) when the portfolio is small enough
    (`MATRIX_MAX_RECORDS`); `search` uses it for lexical candidate retrieval.
    """

    def __init__(self, vectorizer: TfidfVectorizer, matrix: sp.csr_matrix | None = None) -> None:
        self.vectorizer = vectorizer
        self.matrix = matrix
        vocab = vectorizer.vocabulary_
        self._idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self._vocab: dict[str, int] = vocab

    @classmethod
    def fit(cls, texts: Sequence[str], *, keep_matrix: bool = True) -> LexicalModel:
        vec = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=1, dtype=np.float32)
        texts = list(texts)
        if not texts:
            vec.fit(["empty"])
            return cls(vec)
        matrix = vec.fit_transform(texts).tocsr()
        keep = keep_matrix and len(texts) <= MATRIX_MAX_RECORDS
        return cls(vec, matrix if keep else None)

    def search(self, text: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, cosine) of the k fitted texts most similar to `text`, best first.

        Empty when the model keeps no matrix or nothing shares a term with `text`.
        """
        if self.matrix is None or k <= 0 or self.matrix.shape[0] == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = np.asarray((self.matrix @ self.transform([text]).T).todense()).ravel()
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[scores[top] > 0]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top.astype(np.int64), scores[top].astype(np.float32)

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
            arrays: dict[str, np.ndarray] = {"terms": np.array(terms, dtype=str), "idf": self._idf}
            if self.matrix is not None:
                m = self.matrix
                arrays.update(m_data=m.data, m_indices=m.indices, m_indptr=m.indptr,
                              m_shape=np.asarray(m.shape, dtype=np.int64))
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> LexicalModel:
        try:
            with np.load(path, allow_pickle=False) as data:
                terms = [str(t) for t in data["terms"]]
                idf = data["idf"]
                matrix = None
                if "m_data" in data.files:
                    matrix = sp.csr_matrix(
                        (data["m_data"], data["m_indices"], data["m_indptr"]),
                        shape=tuple(int(x) for x in data["m_shape"]),
                    )
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorruptError(f"{path}: unreadable lexical model ({exc}); re-run ingest") from None
        vec = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, dtype=np.float32)
        vec.vocabulary_ = {t: i for i, t in enumerate(terms)}
        vec.idf_ = idf
        return cls(vec, matrix)
