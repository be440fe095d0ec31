"""Lexical similarity: TF-IDF over the portfolio's own vocabulary, saved beside the index."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from dedupe.errors import IndexCorruptError
from dedupe.text import tokenize

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer


def _analyzer(text: str) -> list[str]:
    tokens = tokenize(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


class LexicalModel:
    """TF-IDF (unigrams + bigrams, sublinear tf) fitted on the portfolio texts.

    Fitting uses scikit-learn's `TfidfVectorizer`; a loaded model transforms texts itself with
    the same formula (1 + log tf, times idf, L2-normalised rows), so opening an index for
    `check` never imports scikit-learn (~1-3 s of start-up). `vectorizer` rebuilds the
    scikit-learn object on demand.
    """

    def __init__(
        self,
        vectorizer: TfidfVectorizer | None = None,
        *,
        vocab: dict[str, int] | None = None,
        idf: np.ndarray | None = None,
    ) -> None:
        if vectorizer is not None:
            vocab, idf = vectorizer.vocabulary_, vectorizer.idf_
        if vocab is None or idf is None:
            raise ValueError("LexicalModel needs a fitted vectorizer or (vocab, idf)")
        self._vectorizer = vectorizer
        self._vocab: dict[str, int] = dict(vocab)
        self._idf = np.asarray(idf, dtype=np.float64)

    @property
    def vectorizer(self) -> TfidfVectorizer:
        """The equivalent fitted scikit-learn vectorizer (built on first use)."""
        if self._vectorizer is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            vec = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, dtype=np.float32)
            vec.vocabulary_ = self._vocab
            vec.idf_ = self._idf
            self._vectorizer = vec
        return self._vectorizer

    @classmethod
    def fit(cls, texts: Sequence[str]) -> LexicalModel:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=1, dtype=np.float32)
        vec.fit(list(texts) or [""] if texts else ["empty"])
        return cls(vec)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF rows as scikit-learn computes them (sublinear tf, idf, L2 norm), float32."""
        vocab = self._vocab
        indptr = [0]
        indices: list[int] = []
        counts: list[int] = []
        for text in texts:
            row: dict[int, int] = {}
            for term in _analyzer(text):
                j = vocab.get(term)
                if j is not None:
                    row[j] = row.get(j, 0) + 1
            cols = sorted(row)
            indices.extend(cols)
            counts.extend(row[c] for c in cols)
            indptr.append(len(indices))
        col = np.asarray(indices, dtype=np.int32)
        data = (np.log(np.asarray(counts, dtype=np.float64)) + 1.0) * self._idf[col]
        ptr = np.asarray(indptr, dtype=np.int64)
        lengths = np.diff(ptr)
        rows = np.repeat(np.arange(len(lengths)), lengths)
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(lengths)))
        data /= np.where(norms > 0, norms, 1.0)[rows]
        return sp.csr_matrix(
            (data.astype(np.float32), col, ptr), shape=(len(lengths), len(self._idf))
        )

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
        return cls(vocab={t: i for i, t in enumerate(terms)}, idf=idf)
