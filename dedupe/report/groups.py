"""Groups of initiatives: clusters (connected flagged pairs) and communities of practice.

Clusters are the connected components of the graph of flagged cross-department pairs: the same
capability built in several places. Communities are looser: Louvain communities of the graph of
all pairs above a lower score bar, kept when they span three or more departments — the same
practice area (case management, chatbots…), not the same system. Labels are the group's
strongest TF-IDF terms under the index's own lexical model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import networkx as nx
import numpy as np

from dedupe.match.lexical import LexicalModel


def components(edges: Iterable[tuple[str, str]]) -> list[frozenset[str]]:
    """Connected components (≥ 2 members), biggest first, then by smallest member id."""
    graph: nx.Graph = nx.Graph()
    graph.add_edges_from(edges)
    comps = [frozenset(c) for c in nx.connected_components(graph) if len(c) >= 2]
    comps.sort(key=lambda c: (-len(c), min(c)))
    return comps


def communities(
    edges: Iterable[tuple[str, str, float]],
    department_of: dict[str, str],
    *,
    min_departments: int = 3,
    max_size: int = 200,
    seed: int = 0,
) -> list[frozenset[str]]:
    """Louvain communities of the weighted pair graph spanning ≥ `min_departments` departments.

    Louvain (not connected components) keeps a chain of loosely similar pairs from collapsing a
    whole portfolio into one group; a community bigger than `max_size` is split again.
    """
    graph: nx.Graph = nx.Graph()
    graph.add_weighted_edges_from(edges)
    if graph.number_of_nodes() == 0:
        return []
    found: list[frozenset[str]] = []
    queue = [frozenset(c) for c in nx.community.louvain_communities(graph, seed=seed)]
    while queue:
        group = queue.pop()
        if len(group) > max_size:
            parts = nx.community.louvain_communities(
                graph.subgraph(group), seed=seed, resolution=2.0
            )
            if len(parts) > 1:
                queue.extend(frozenset(p) for p in parts)
                continue
        if len({department_of[i] for i in group}) >= min_departments:
            found.append(group)
    found.sort(key=lambda c: (-len({department_of[i] for i in c}), -len(c), min(c)))
    return found


class Labeler:
    """Short labels for groups of initiatives from their strongest shared TF-IDF terms.

    Every text is transformed once; a label is then a sum over the group's rows.
    """

    def __init__(self, lexical: LexicalModel, texts: dict[str, str]) -> None:
        ids = list(texts)
        self._row = {i: n for n, i in enumerate(ids)}
        self._matrix = lexical.transform([texts[i] for i in ids]) if ids else None
        self._names = lexical.vectorizer.get_feature_names_out()

    def key_terms(self, ids: Sequence[str], k: int = 4) -> tuple[str, ...]:
        """The `k` strongest terms (mean weight × √coverage), skipping ones sharing a word."""
        if self._matrix is None or not ids:
            return ()
        matrix = self._matrix[[self._row[i] for i in ids]]
        weights = np.asarray(matrix.mean(axis=0)).ravel()
        # Terms most members share beat a term one long description repeats.
        coverage = np.asarray((matrix > 0).mean(axis=0)).ravel()
        score = weights * np.sqrt(coverage)
        top = np.argsort(-score, kind="stable")[: 20 * k]
        chosen: list[str] = []
        for idx in top:
            if score[idx] <= 0:
                break
            term = str(self._names[idx])
            words = set(term.split())
            if any(words & set(c.split()) for c in chosen):
                continue
            chosen.append(term)
            if len(chosen) == k:
                break
        return tuple(chosen)

    def label(self, ids: Sequence[str], k: int = 4) -> str:
        return ", ".join(self.key_terms(ids, k)) or "(no shared terms)"
