"""`evaluate`'s breakdowns: figures per pair type and per query kind, and English↔French recall.

The pairs table may carry a `pair_type` column and the queries table a `kind` column (any names:
`sdp`, `acronym`, `dup_fr`...); each group gets its own figures at the tool's flag threshold, so a
trap set shows, say, how many same-domain-different-problem pairs are flagged. Languages come from
`lang_a`/`lang_b` (pairs) or `language` (queries, records) where given, else are detected.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from sklearn.metrics import average_precision_score


@dataclass(frozen=True)
class PairGroup:
    """One pair type: `recall` over its positives and `flagged_negatives` (share of its
    unrelated pairs at or above the threshold); None where the group has none of them."""

    group: str
    n: int
    positives: int
    average_precision: float | None
    recall: float | None
    flagged_negatives: float | None


@dataclass(frozen=True)
class QueryGroup:
    """One query kind: `recall_at_5` and `expected_flagged` (share of its queries whose
    expected initiative is flagged) over queries with expected ids; `flagged_new` (share
    flagged at all) over those without."""

    group: str
    n: int
    recall_at_5: float | None
    expected_flagged: float | None
    flagged_new: float | None


@dataclass(frozen=True)
class CrossLanguage:
    """Recall at the flag threshold where the two sides are in different languages."""

    pairs_recall: float | None
    pairs_n: int
    queries_recall: float | None
    queries_n: int


@dataclass(frozen=True)
class Details:
    pairs_by_type: tuple[PairGroup, ...]
    queries_by_kind: tuple[QueryGroup, ...]
    cross_language: CrossLanguage

    def to_json(self) -> dict[str, Any]:
        return {
            "pairs_by_type": [asdict(g) for g in self.pairs_by_type],
            "queries_by_kind": [asdict(g) for g in self.queries_by_kind],
            "cross_language": asdict(self.cross_language),
        }


def _mean(values: pd.Series) -> float | None:
    return round(float(values.mean()), 4) if len(values) else None


def pair_groups(scored: pd.DataFrame) -> tuple[PairGroup, ...]:
    """Figures per `pair_type` of a scored pairs table (none without that column)."""
    if "pair_type" not in scored.columns:
        return ()
    out = []
    for name, g in scored.groupby("pair_type", sort=True):
        y, s = g["label"].to_numpy(), g["score"].to_numpy()
        ap = float(average_precision_score(y, s)) if 0 < y.sum() < len(y) else None
        out.append(
            PairGroup(
                group=str(name),
                n=len(g),
                positives=int(y.sum()),
                average_precision=round(ap, 4) if ap is not None else None,
                recall=_mean(g.loc[g["label"] == 1, "flagged"]),
                flagged_negatives=_mean(g.loc[g["label"] == 0, "flagged"]),
            )
        )
    return tuple(out)


def query_groups(outcomes: pd.DataFrame) -> tuple[QueryGroup, ...]:
    """Figures per `kind` of the per-query outcomes (none without that column)."""
    if "kind" not in outcomes.columns or not outcomes["kind"].astype(bool).any():
        return ()
    out = []
    for name, g in outcomes.groupby("kind", sort=True):
        known = g[g["n_expected"] > 0]
        new = g[g["n_expected"] == 0]
        out.append(
            QueryGroup(
                group=str(name),
                n=len(g),
                recall_at_5=_mean(known["recall_at_5"]),
                expected_flagged=_mean(known["expected_flagged"]),
                flagged_new=_mean(new["flagged"]),
            )
        )
    return tuple(out)


def cross_language(scored: pd.DataFrame | None, outcomes: pd.DataFrame | None) -> CrossLanguage:
    pairs = queries = pd.Series([], dtype=bool)
    if scored is not None and {"lang_a", "lang_b"} <= set(scored.columns):
        both = (scored["lang_a"] != "") & (scored["lang_b"] != "")
        cross = both & (scored["lang_a"] != scored["lang_b"]) & (scored["label"] == 1)
        pairs = scored.loc[cross, "flagged"]
    if outcomes is not None and "cross_language" in outcomes.columns:
        queries = outcomes.loc[outcomes["cross_language"], "expected_flagged"]
    return CrossLanguage(
        pairs_recall=_mean(pairs),
        pairs_n=len(pairs),
        queries_recall=_mean(queries),
        queries_n=len(queries),
    )


def details(scored: pd.DataFrame | None, outcomes: pd.DataFrame | None) -> Details:
    return Details(
        pairs_by_type=pair_groups(scored) if scored is not None else (),
        queries_by_kind=query_groups(outcomes) if outcomes is not None else (),
        cross_language=cross_language(scored, outcomes),
    )
