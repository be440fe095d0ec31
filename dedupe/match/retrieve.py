"""Candidate retrieval for `check`: dense neighbours, then lexical ones, then title ones.

Dense search finds re-wordings; short notes full of acronyms and names are often far from
their twin in embedding space but near in words (the TF-IDF neighbours of the whole text); a
proposal that reuses a project's name is outranked even there by records sharing its longer
words ("Quick n Dirty (Lawrence Livermore National Laboratory)" against every LLNL record), so
the neighbours of its title's words alone join too.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from dedupe.index.store import IndexKind, PortfolioIndex
from dedupe.match.lexical import LexicalModel


def retrieve(
    index: PortfolioIndex,
    lexical: LexicalModel,
    ids: np.ndarray,
    qvec: np.ndarray,
    query_text: str,
    title: str,
    *,
    exclude_id: str = "",
    k: int = 50,
    lexical_k: int = 20,
    title_k: int = 5,
) -> tuple[list[int], np.ndarray, sp.csr_matrix]:
    """(positions, dense cosines, the query's TF-IDF row): the `k` nearest records by the
    query vector `qvec` (1 × dim), then up to `lexical_k` more nearest by TF-IDF of
    `query_text` and `title_k` more by the words of `title`. A record whose id is
    `exclude_id` (an indexed initiative checked again) is never a candidate."""
    sims, pos = index.search(qvec, k + 1)
    found = [int(p) for p in pos[0] if p >= 0]
    if index.manifest.index_kind == IndexKind.FLAT.value:
        exact = [float(s) for p, s in zip(pos[0], sims[0], strict=True) if p >= 0]
    else:  # approximate / 8-bit index: the candidates' cosines from the stored vectors
        vecs = np.asarray(index.vectors[found], dtype=np.float32)
        exact = (vecs @ np.asarray(qvec[0], dtype=np.float32)).astype(float).tolist()
        order = np.argsort(-np.asarray(exact), kind="stable")
        found, exact = [found[i] for i in order], [exact[i] for i in order]
    pairs = [(p, s) for p, s in zip(found, exact, strict=True) if ids[p] != exclude_id][:k]
    taken = {p for p, _ in pairs}

    def new(positions: np.ndarray, limit: int) -> list[int]:
        out = [int(p) for p in positions if int(p) not in taken and ids[int(p)] != exclude_id]
        taken.update(out[:limit])
        return out[:limit]

    qrow = lexical.transform([query_text])
    extra = new(lexical.search_row(qrow, lexical_k + 1)[0], lexical_k)
    trow = lexical.transform([title]) if title_k > 0 and title else None
    if trow is not None and 0 < trow.nnz < qrow.nnz:  # (a title-only query: searched above)
        extra += new(lexical.search_row(trow, 2 * title_k + 1)[0], title_k)
    if extra:
        vecs = np.asarray(index.vectors[extra], dtype=np.float32)
        dense_extra = vecs @ np.asarray(qvec[0], dtype=np.float32)
        pairs += list(zip(extra, (float(d) for d in dense_extra), strict=True))
    return [p for p, _ in pairs], np.array([s for _, s in pairs], dtype=np.float64), qrow


@dataclass(frozen=True)
class Candidates:
    """A proposal's nearest records: row positions, dense cosine and the pair feature matrix."""

    query_text: str
    positions: list[int]
    dense: np.ndarray
    features: np.ndarray
    query_sentences: tuple[str, ...] = ()
    # The query's sentence vectors, or their encoding still running on the detector's worker
    # thread (`query_sentence_vectors` waits for it: the caller works meanwhile).
    sentence_vectors: np.ndarray | Future[np.ndarray] | None = None
    language: str = ""  # the query's: given, else detected

    @property
    def query_sentence_vectors(self) -> np.ndarray | None:
        v = self.sentence_vectors
        return v.result() if isinstance(v, Future) else v
