"""The nightly report as data: pairs, clusters, communities, roll-ups, headline figures.

Everything a face shows (HTML, CSV/Parquet, summary.json) is rendered from these frozen objects.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from dedupe.report.sources import SourceOutcome

NEW, PERSISTING, RESOLVED = "new", "persisting", "resolved"
# A reviewer decided the pair is not related; its texts unchanged, the scorer now puts it below
# the bar; a cluster whose pairs are all still flagged, now inside another cluster.
DISMISSED, UNFLAGGED, MERGED = "dismissed", "unflagged", "merged"
ACTIVE = (NEW, PERSISTING)  # flagged tonight; every other status is listed once, then history


def pair_id(id_a: str, id_b: str) -> str:
    """Stable id of an order-free pair: a hash of its sorted key."""
    a, b = (id_a, id_b) if id_a <= id_b else (id_b, id_a)
    return "p-" + hashlib.sha1(f"{a}\x1f{b}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class PairRow:
    """One flagged pair of initiatives, or (`resolved`, `dismissed`, `unflagged`) one flagged
    last run and not tonight: listed once, in the next report."""

    pair_id: str
    id_a: str
    id_b: str
    title_a: str
    title_b: str
    department_a: str
    department_b: str
    owner_a: str  # "Name <email>", or "" when no owner is on record
    owner_b: str
    score: float
    tier: str
    similarity: float
    same_department: bool
    status: str  # new | persisting (flagged) | resolved | dismissed | unflagged (not any more)
    decided: bool = False  # a reviewer already decided this pair
    decision: str = ""  # the reviewers' label, e.g. "overlap by alice"
    reason: str = ""
    shared_terms: str = ""  # "; "-joined
    sentence_a: str = ""
    sentence_b: str = ""
    cluster_id: str = ""
    text_hash_a: str = ""  # the texts as scored: "resolved" needs one of them to change
    text_hash_b: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Member:
    """An initiative inside a cluster or community, with whom to contact."""

    id: str
    title: str
    department: str
    owner: str
    budget: float | None = None


@dataclass(frozen=True)
class Cluster:
    """Initiatives across departments connected by flagged pairs: one capability built N times."""

    cluster_id: str
    status: str  # new | persisting | resolved | dismissed | unflagged | merged
    label: str
    members: tuple[Member, ...]
    departments: tuple[str, ...]
    max_score: float
    n_pairs: int
    new_members: tuple[str, ...] = ()  # ids that joined since the previous run
    budget: float | None = None  # sum of the members' known budgets
    merged_into: str = ""  # status `merged`: the cluster that now holds its pairs

    @property
    def owners(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.owner or f"({m.department})" for m in self.members))


@dataclass(frozen=True)
class Community:
    """A looser topic group spanning three or more departments: a community-of-practice seed."""

    community_id: str
    label: str
    members: tuple[Member, ...]
    departments: tuple[str, ...]

    @property
    def people(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f"{m.owner} ({m.department})" for m in self.members if m.owner))

    @property
    def departments_without_owner(self) -> tuple[str, ...]:
        """Departments in the group with no named owner: ask their portfolio office."""
        named = {m.department for m in self.members if m.owner}
        return tuple(d for d in self.departments if d not in named)

    def people_by_department(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Each department once, with its named owners (none: ask its portfolio office)."""
        return tuple(
            (
                d,
                tuple(
                    dict.fromkeys(m.owner for m in self.members if m.department == d and m.owner)
                ),
            )
            for d in self.departments
        )


@dataclass(frozen=True)
class Headline:
    initiatives: int
    departments: int
    pairs_flagged: int  # current cross-department pairs
    same_department_pairs: int
    new: int  # cross-department pairs new since the previous run
    resolved: int  # flagged last run; an initiative was removed or its text changed
    persisting: int
    clusters: int
    new_clusters: int
    communities: int
    budget_at_stake: float | None  # known budgets of initiatives in cross-department clusters
    budget_known: int  # how many clustered initiatives have a budget on record
    sources_failed: int
    dismissed: int = 0  # pairs above the bar that reviewers decided are not related
    newly_dismissed: int = 0  # of those, the ones flagged last run (listed once, not resolved)
    no_longer_flagged: int = 0  # flagged last run, texts unchanged, now scored below the bar
    carried: int = 0  # persisting pairs the neighbour search missed tonight, scored directly

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Report:
    run_id: str
    created: str  # ISO time
    index_path: str
    model_id: str
    previous_run: str | None
    headline: Headline
    sources: tuple[SourceOutcome, ...]
    ingest: dict[str, Any]
    pairs: tuple[PairRow, ...]  # cross-department, flagged then ended (resolved, dismissed…)
    same_department: tuple[PairRow, ...]
    clusters: tuple[Cluster, ...]  # current then ended
    communities: tuple[Community, ...]
    departments: tuple[str, ...]  # every department with a cross-department pair, most first
    matrix: tuple[tuple[int, ...], ...]  # departments × departments pair counts
    warnings: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def failed_sources(self) -> tuple[SourceOutcome, ...]:
        return tuple(s for s in self.sources if not s.ok)

    def department_totals(self) -> list[tuple[str, int]]:
        return [(d, sum(row)) for d, row in zip(self.departments, self.matrix, strict=True)]

    def summary_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "created": self.created,
            "index": self.index_path,
            "model_id": self.model_id,
            "previous_run": self.previous_run,
            "headline": self.headline.to_json(),
            "sources": [s.to_json() for s in self.sources],
            "ingest": self.ingest,
            "departments": [{"department": d, "pairs": n} for d, n in self.department_totals()],
            "warnings": list(self.warnings),
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }
