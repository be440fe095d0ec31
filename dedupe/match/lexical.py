"""Lexical similarity: TF-IDF over the portfolio's own vocabulary, saved beside the index."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from dedupe.errors import IndexCorruptError
from dedupe.match.idf import ReferenceFrequencies, smooth_idf
from dedupe.text import TOKENIZER_VERSION, tokenize

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

SMALL_BATCH = 200  # texts; a larger transform builds the term dict once
DICT_AFTER = 50_000  # bisect lookups (a cold `check` does ~6k); then the dict is built
# Up to this many records, the records' TF-IDF rows are kept with the model, so `check` can
# retrieve candidates lexically too (acronyms, names and short notes that dense search misses).
# About 70 non-zeros a record: 15k records take ~4 MB on disk.
MATRIX_MAX_RECORDS = 300_000


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
        sorted_terms: list[str] | None = None,
        matrix: sp.csr_matrix | None = None,
        n_tokens: np.ndarray | None = None,
        counts: np.ndarray | None = None,
        tokenizer: int = TOKENIZER_VERSION,
    ) -> None:
        if vectorizer is not None:
            vocab, idf = vectorizer.vocabulary_, vectorizer.idf_
        if (vocab is None and sorted_terms is None) or idf is None:
            raise ValueError(
                "LexicalModel needs a fitted vectorizer, (vocab, idf) or (sorted_terms, idf)"
            )
        self._vectorizer = vectorizer
        self._dict: dict[str, int] | None = vocab
        # Column j's term, in sorted order (as scikit-learn numbers them): a few lookups bisect
        # this list, so opening an index need not build a dict of every term (~0.3 s per 400k).
        self._terms = sorted_terms
        self._bisects = 0
        self._idf = np.asarray(idf, dtype=np.float64)
        # The fitted texts' rows, in index order, for `search` and for the record side of the
        # pair features (None for big portfolios); `n_tokens`: their `tokenize` lengths.
        self.matrix = matrix
        self.n_tokens = n_tokens
        self.counts = counts  # raw term counts, aligned with matrix.data (for a re-fit)
        self.tokenizer = tokenizer  # the `TOKENIZER_VERSION` the rows were counted with
        self._by_term: sp.csr_matrix | None = None
        self._searches = 0

    @property
    def _vocab(self) -> dict[str, int]:
        if self._dict is None:
            assert self._terms is not None
            self._dict = dict(zip(self._terms, range(len(self._terms)), strict=True))
        return self._dict

    def column_of(self, term: str) -> int | None:
        """The column of `term` in the TF-IDF rows (None: not in the vocabulary)."""
        return self._column(term)

    def _column(self, term: str) -> int | None:
        if self._dict is not None or self._terms is None:
            return self._vocab.get(term)
        self._bisects += 1
        if self._bisects > DICT_AFTER:  # a long-lived process (the review app): build it once
            return self._vocab.get(term)
        j = bisect_left(self._terms, term)
        return j if j < len(self._terms) and self._terms[j] == term else None

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
    def fit(
        cls,
        texts: Sequence[str],
        *,
        keep_matrix: bool = True,
        previous: LexicalModel | None = None,
        reuse: Sequence[int] | np.ndarray | None = None,
        reference: ReferenceFrequencies | None = None,
    ) -> LexicalModel:
        """Fit on the portfolio's texts; keep their rows (`matrix`) up to MATRIX_MAX_RECORDS.
        With a `reference`, a portfolio of fewer than `dedupe.match.idf.REFERENCE_RECORDS`
        texts borrows its document frequencies; otherwise, or for a larger one:

        The same model as scikit-learn's `TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True,
        dtype=float32)` (sorted vocabulary, smooth idf, L2 rows; checked in the tests), computed
        here so that an ingest imports no scikit-learn (~3 s) and a re-ingest need not analyse
        the unchanged texts again: `reuse[i]` is the row of `previous` fitted on the very same
        text as `texts[i]` (-1: analyse it); its term counts are read back from `previous`.
        """
        texts = list(texts)
        n = len(texts)
        if n == 0:
            return cls(vocab={"empty": 0}, sorted_terms=["empty"], idf=np.ones(1))
        keep = keep_matrix and n <= MATRIX_MAX_RECORDS
        old_rows = np.full(n, -1, dtype=np.int64)
        if keep and reuse is not None and previous is not None and previous.can_reuse:
            old_rows = np.asarray(reuse, dtype=np.int64)
        # The analysed rows' terms get provisional ids as they are met, and their (id, count)
        # cells go to flat int32 arrays: no Python object per cell (at 100k records, ~7M cells
        # held as strings and ints grew the process by ~0.6 GB that the allocator kept). A
        # model that keeps no matrix only counts each term's document frequency.
        new_terms: dict[str, int] = {}
        f_col = array("i")
        f_cnt = array("i")
        f_ptr = array("q", [0])
        f_df = array("q")
        lengths = np.zeros(n, dtype=np.int32)
        for i, text in enumerate(texts):
            if old_rows[i] >= 0:
                continue
            tokens = tokenize(text)
            lengths[i] = len(tokens)
            grams: dict[str, int] = {}
            for term in tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]:
                grams[term] = grams.get(term, 0) + 1
            for term, count in grams.items():
                j = new_terms.get(term)
                if j is None:
                    j = new_terms[term] = len(new_terms)
                    if not keep:
                        f_df.append(0)
                if keep:
                    f_col.append(j)
                    f_cnt.append(count)
                else:
                    f_df[j] += 1
            f_ptr.append(len(f_col))
        if not keep:
            vocab_terms = sorted(new_terms)
            df_sorted = np.frombuffer(f_df, dtype=np.int64)[
                np.fromiter((new_terms[t] for t in vocab_terms), np.int64, len(vocab_terms))
            ]
            del new_terms
            return cls(
                sorted_terms=vocab_terms,
                idf=smooth_idf(df_sorted, n).astype(np.float64),
            )
        used_old = np.zeros(0, dtype=np.int64)
        old_terms: list[str] = []
        if (old_rows >= 0).any():
            assert previous is not None and previous.matrix is not None
            assert previous.counts is not None and previous.n_tokens is not None
            pm = previous.matrix
            sel = old_rows[old_rows >= 0]
            lengths[old_rows >= 0] = previous.n_tokens[sel]
            chosen = np.zeros(pm.shape[0], dtype=bool)
            chosen[sel] = True
            in_use = np.zeros(pm.shape[1], dtype=bool)
            in_use[pm.indices[np.repeat(chosen, np.diff(pm.indptr))]] = True
            used_old = np.nonzero(in_use)[0]
            old_terms = previous.terms
        used_terms = [old_terms[j] for j in used_old.tolist()]  # sorted, as old_terms is
        known = set(used_terms)
        vocab_terms = used_terms + [t for t in new_terms if t not in known]
        vocab_terms.sort()  # two sorted runs (few new terms): linear for Timsort
        vocab = dict(zip(vocab_terms, range(len(vocab_terms)), strict=True))
        remap = np.full(max(1, len(old_terms)), -1, dtype=np.int32)
        if len(used_old):
            remap[used_old] = [vocab[t] for t in used_terms]
        # Rows in input order: the reused ones gathered from the previous model in one sparse
        # row selection (columns renumbered by the monotonic `remap`), the new ones analysed.
        width = len(vocab_terms)
        reused = np.nonzero(old_rows >= 0)[0]
        fresh = np.nonzero(old_rows < 0)[0]
        blocks: list[sp.csr_matrix] = []
        if len(reused):
            assert previous is not None and previous.matrix is not None
            assert previous.counts is not None
            pm = previous.matrix
            counts_m = sp.csr_matrix(
                (np.asarray(previous.counts, dtype=np.int32), pm.indices, pm.indptr),
                shape=pm.shape,
            )[old_rows[reused]]
            blocks.append(
                sp.csr_matrix(
                    (counts_m.data, remap[counts_m.indices], counts_m.indptr),
                    shape=(len(reused), width),
                )
            )
            del counts_m
        if len(fresh):
            final = np.fromiter((vocab[t] for t in new_terms), dtype=np.int32, count=len(new_terms))
            del new_terms
            cols = np.frombuffer(f_col, dtype=np.int32)
            block = sp.csr_matrix(
                (
                    np.frombuffer(f_cnt, dtype=np.int32).copy(),
                    final[cols],
                    np.frombuffer(f_ptr, np.int64),
                ),
                shape=(len(fresh), width),
            )
            del cols, f_col, f_cnt
            block.sort_indices()
            blocks.append(block)
        if len(reused) == 0:
            ordered = blocks[0]  # all rows analysed, already in input order
        else:
            where = np.empty(n, dtype=np.int64)
            where[reused] = np.arange(len(reused))
            where[fresh] = len(reused) + np.arange(len(fresh))
            ordered = sp.vstack(blocks, format="csr")[where]
        del blocks
        col = np.asarray(ordered.indices, dtype=np.int32)
        cnt = np.asarray(ordered.data, dtype=np.int32)
        indptr = np.asarray(ordered.indptr, dtype=np.int64)
        del ordered
        # As scikit-learn computes it, in float32: idf = ln((1 + n) / (1 + df)) + 1, then
        # (1 + ln tf) * idf per cell and L2-normalised rows.
        df = np.bincount(col, minlength=width)
        # the reference lends frequencies below REFERENCE_RECORDS texts, else the idf is own
        idf32 = (
            smooth_idf(df, n) if reference is None else reference.blended_idf(df, n, vocab_terms)
        )
        data = np.log(cnt, dtype=np.float32)
        data += np.float32(1)
        data *= idf32[col]
        norms = np.zeros(n, dtype=np.float64)
        rows = np.repeat(np.arange(n, dtype=np.int32), np.diff(indptr))
        step = 1 << 22  # cells squared in float64 at a time
        for lo in range(0, len(data), step):
            part = data[lo : lo + step].astype(np.float64)
            norms += np.bincount(rows[lo : lo + step], weights=part * part, minlength=n)
        norms = np.sqrt(norms)
        data /= np.where(norms > 0, norms, 1.0).astype(np.float32)[rows]
        del rows
        matrix = sp.csr_matrix((data, col, indptr), shape=(n, width))
        return cls(
            vocab=vocab,
            sorted_terms=vocab_terms,
            idf=idf32.astype(np.float64),
            matrix=matrix,
            n_tokens=lengths,
            counts=cnt.astype(np.uint16 if cnt.size == 0 or cnt.max() < 65_535 else np.int32),
        )

    @property
    def terms(self) -> list[str]:
        """Column j's term, for every column."""
        if self._terms is not None:
            return self._terms
        return sorted(self._vocab, key=self._vocab.__getitem__)

    @property
    def can_reuse(self) -> bool:
        """Whether `fit(previous=self, reuse=...)` can read this model's rows back."""
        return (
            self.tokenizer == TOKENIZER_VERSION
            and self.matrix is not None
            and self.counts is not None
            and self.n_tokens is not None
            and len(self.counts) == self.matrix.nnz
            and len(self.n_tokens) == self.matrix.shape[0]
        )

    def search(self, text: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, cosine) of the k fitted texts most similar to `text`, best first.

        Empty when the model keeps no matrix or nothing shares a term with `text`.
        """
        return self.search_row(self.transform([text]), k)

    def search_row(self, row: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        """`search` for a text already transformed (one TF-IDF row)."""
        if self.matrix is None or k <= 0 or self.matrix.shape[0] == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        self._searches += 1
        if self._by_term is None and self._searches > 1:  # a long-lived process: index terms
            self._by_term = self.matrix.T.tocsr()  # (terms x records): one row per term
        if self._by_term is not None:  # only the query's terms' postings are read
            q = row.tocsr()
            hits = (sp.csr_matrix(q.data.reshape(1, -1)) @ self._by_term[q.indices]).tocsr()
        else:
            hits = (self.matrix @ row.T).T.tocsr()
        # Only the records sharing a term with the query are ranked (not every record: an
        # argpartition over 100k scores was ~1 ms of a check). A sparse product has no
        # duplicate entries; its column order does not matter here (sorting it was ~1 ms).
        where, scores = hits.indices.astype(np.int64), hits.data.astype(np.float64)
        keep = scores > 0
        where, scores = where[keep], scores[keep]
        if len(scores) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        k = min(k, len(scores))
        # the k best, ties at the k-th score broken by position (the product's order differs
        # between the two ways above)
        kth = -np.partition(-scores, k - 1)[k - 1]
        above = np.flatnonzero(scores > kth)
        tied = np.flatnonzero(scores == kth)
        tied = tied[np.argsort(where[tied], kind="stable")][: k - len(above)]
        top = np.concatenate([above, tied])
        top = top[np.lexsort((where[top], -scores[top]))]  # best first, ties by position
        return where[top], scores[top].astype(np.float32)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF rows as scikit-learn computes them (sublinear tf, idf, L2 norm), float32."""
        lookup = self._vocab.get if len(texts) > SMALL_BATCH else self._column
        indptr = [0]
        indices: list[int] = []
        counts: list[int] = []
        for text in texts:
            row: dict[int, int] = {}
            for term in _analyzer(text):
                j = lookup(term)
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
        i = self._column(term)
        return float(self._idf[i]) if i is not None else float(self._idf.max(initial=1.0))

    def pair_similarity(
        self,
        a: Sequence[str],
        b: Sequence[str],
        *,
        rows_a: sp.csr_matrix | None = None,
        rows_b: sp.csr_matrix | None = None,
    ) -> np.ndarray:
        """Row-wise cosine of a[i] and b[i].

        `rows_a` / `rows_b`: the texts' TF-IDF rows when already known (the indexed records'
        rows in `matrix`); a single row stands for every text of its side (a proposal checked
        against its candidates). Each distinct text is transformed once."""
        ma = rows_a if rows_a is not None else self._unique_rows(a)
        mb = rows_b if rows_b is not None else self._unique_rows(b)
        if ma.shape[0] == 1 and mb.shape[0] != 1:
            ma, mb = mb, ma
        if mb.shape[0] == 1 and ma.shape[0] != 1:
            # One text against many: a dense copy of its row makes this a sparse x dense
            # product (transposing a 1 x V row builds a V-long index: ~1 ms per check).
            one = np.zeros(mb.shape[1], dtype=np.float32)
            one[mb.indices] = mb.data
            return np.asarray(ma @ one, dtype=np.float32).ravel()
        out = np.asarray(ma.multiply(mb).sum(axis=1)).ravel().astype(np.float32)
        n = max(len(a), len(b))
        return np.repeat(out, n) if len(out) == 1 and n > 1 else out

    def _unique_rows(self, texts: Sequence[str]) -> sp.csr_matrix:
        first: dict[str, int] = {}
        which = [first.setdefault(t, len(first)) for t in texts]
        rows = self.transform(list(first))
        if len(first) == 1 and len(texts) > 1:
            return rows  # one text for the whole side: broadcast in `pair_similarity`
        return rows if len(first) == len(texts) else rows[np.asarray(which, dtype=np.int64)]

    def save(self, path: str | Path) -> None:
        """Terms as one UTF-8 blob (newline-separated, in column order) plus the idf vector.

        Not a fixed-width unicode array: for a large vocabulary that is 4 bytes x the longest
        term per term, and reading it back was most of `check`'s cold start."""
        terms = (
            self._terms
            if self._terms is not None
            else sorted(self._vocab, key=self._vocab.__getitem__)
        )
        blob = "\n".join(t.replace("\n", " ") for t in terms).encode("utf-8")
        with open(path, "wb") as fh:
            arrays: dict[str, np.ndarray] = {
                "terms_utf8": np.frombuffer(blob, dtype=np.uint8),
                "idf": self._idf,
                "tokenizer": np.asarray([self.tokenizer], dtype=np.int64),
            }
            if self.matrix is not None:
                m = self.matrix
                arrays.update(
                    m_data=m.data,
                    m_indices=m.indices,
                    m_indptr=m.indptr,
                    m_shape=np.asarray(m.shape, dtype=np.int64),
                )
                if self.n_tokens is not None:
                    arrays["m_ntokens"] = self.n_tokens
                if self.counts is not None:
                    arrays["m_counts"] = self.counts
            np.savez(fh, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | Path) -> LexicalModel:
        try:
            with np.load(path, allow_pickle=False) as data:
                if "terms_utf8" in data.files:
                    raw = data["terms_utf8"].tobytes().decode("utf-8")
                    terms = raw.split("\n") if raw else []
                else:  # indexes written before the blob format
                    terms = data["terms"].tolist()
                idf = data["idf"]
                matrix = None
                n_tokens = data["m_ntokens"] if "m_ntokens" in data.files else None
                counts = data["m_counts"] if "m_counts" in data.files else None
                # models saved before the version was recorded counted with version 1
                tokenizer = int(data["tokenizer"][0]) if "tokenizer" in data.files else 1
                if "m_data" in data.files:
                    matrix = sp.csr_matrix(
                        (data["m_data"], data["m_indices"], data["m_indptr"]),
                        shape=tuple(int(x) for x in data["m_shape"]),
                    )
        except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
            raise IndexCorruptError(
                f"{path}: unreadable lexical model ({exc}); re-run ingest"
            ) from None
        if len(terms) != len(idf):
            raise IndexCorruptError(
                f"{path}: {len(terms)} terms but {len(idf)} idf values; re-run ingest"
            )
        ordered = all(a < b for a, b in zip(terms, terms[1:], strict=False))
        return cls(
            vocab=None if ordered else dict(zip(terms, range(len(terms)), strict=True)),
            sorted_terms=terms if ordered else None,
            idf=idf,
            matrix=matrix,
            n_tokens=n_tokens,
            counts=counts,
            tokenizer=tokenizer,
        )
