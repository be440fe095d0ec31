"""Inverse document frequencies: scikit-learn's smooth idf, and the reference a small
portfolio borrows.

A small portfolio borrows document frequencies. In twenty records a domain word ("inspection",
"paie") is as rare as a code name, so two same-domain proposals look alike on words alone, and
the scorer's weights were fitted on a portfolio of 15,000. A portfolio of fewer than
`REFERENCE_RECORDS` records counts, for the records it lacks, each term at its rate in a shipped
reference (`reference_df.tsv.gz`: the public initiatives' English and French texts, built by
`benchmarks/build_reference_df.py`): idf = ln((1 + n + m) / (1 + df + m * ref_df / ref_n)) + 1
with m = REFERENCE_RECORDS - n. A larger portfolio's idf is its own, as scikit-learn computes it.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

REFERENCE_FILE = "reference_df.tsv.gz"
REFERENCE_RECORDS = 1000  # a portfolio smaller than this borrows the reference's frequencies


def smooth_idf(df: np.ndarray, n: int) -> np.ndarray:
    """scikit-learn's smooth idf in float32: ln((1 + n) / (1 + df)) + 1."""
    df32 = df.astype(np.float32) + np.float32(1)
    idf: np.ndarray = (np.log(np.float32(n + 1) / df32) + np.float32(1)).astype(np.float32)
    return idf


@dataclass(frozen=True)
class ReferenceFrequencies:
    """Document frequencies of a reference corpus: `df[term]` of `n_documents`."""

    n_documents: int
    df: dict[str, int]

    def blended_idf(self, df: np.ndarray, n: int, terms: Sequence[str]) -> np.ndarray:
        """The idf of a portfolio of `n` records (`df` per term of `terms`) with the records
        it lacks up to REFERENCE_RECORDS counted at the reference's rates (float32)."""
        m = REFERENCE_RECORDS - n
        if m <= 0 or self.n_documents <= 0:
            return smooth_idf(df, n)
        rate = np.fromiter((self.df.get(t, 0) for t in terms), np.float64, len(terms))
        lent = df.astype(np.float64) + rate * (m / self.n_documents)
        idf = np.log((1.0 + n + m) / (1.0 + lent)) + 1.0
        return idf.astype(np.float32)


@lru_cache(maxsize=1)
def reference_frequencies() -> ReferenceFrequencies:
    """The shipped reference (`reference_df.tsv.gz`); empty if the file is missing."""
    try:
        blob = resources.files("dedupe.match").joinpath(REFERENCE_FILE).read_bytes()
    except FileNotFoundError:
        return ReferenceFrequencies(0, {})
    n, df = 0, {}
    for line in gzip.decompress(blob).decode("utf-8").splitlines():
        term, _, count = line.rpartition("\t")
        if term == "#documents":
            n = int(count)
        elif term and not line.startswith("# "):
            df[term] = int(count)
    return ReferenceFrequencies(n, df)
