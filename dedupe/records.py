"""Typed records that flow through the pipeline. No I/O here.

`Record` is the canonical initiative; `Proposal` is what `check` is asked about; `Match`,
`OwnerContact` and `CheckResult` are what it answers. Every face (CLI table, `--json`, HTML
report, web page) renders these same objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

CANONICAL_FIELDS: tuple[str, ...] = (
    "id",
    "title",
    "description",
    "department",
    "owner_name",
    "owner_email",
    "status",
    "start_date",
    "language",
)
OPTIONAL_FIELDS: tuple[str, ...] = ("url", "tags", "budget", "source")
ALL_FIELDS: tuple[str, ...] = CANONICAL_FIELDS + OPTIONAL_FIELDS


class Tier(str, Enum):
    """How strongly a candidate matches. Ordered: duplicate > overlap > below."""

    DUPLICATE = "duplicate"
    OVERLAP = "overlap"
    BELOW = "below"

    @property
    def flagged(self) -> bool:
        return self is not Tier.BELOW

    @property
    def rank(self) -> int:
        return {Tier.DUPLICATE: 2, Tier.OVERLAP: 1, Tier.BELOW: 0}[self]


@dataclass(frozen=True)
class Record:
    """One initiative in canonical form (all text already normalised)."""

    id: str
    title: str
    description: str
    department: str
    owner_name: str = ""
    owner_email: str = ""
    status: str = ""
    start_date: str = ""  # ISO date (YYYY-MM-DD) or ""
    language: str = ""
    url: str = ""
    tags: str = ""
    budget: float | None = None
    source: str = ""

    @property
    def text(self) -> str:
        """The text that is embedded: title and description."""
        if self.title and self.description:
            return f"{self.title}. {self.description}"
        return self.title or self.description

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Proposal:
    """A new initiative an intake officer checks before approval."""

    title: str
    description: str = ""
    department: str = ""
    language: str = ""
    id: str = "proposal"

    @property
    def text(self) -> str:
        if self.title and self.description:
            return f"{self.title}. {self.description}"
        return self.title or self.description


@dataclass(frozen=True)
class RowProblem:
    """A row that was quarantined, with where it came from and why."""

    file: str
    row: int  # 1-based data row number (header is row 0)
    column: str
    reason: str
    values: dict[str, str] = field(default_factory=dict)

    def message(self) -> str:
        col = f", column {self.column!r}" if self.column else ""
        return f"{self.file}: row {self.row}{col}: {self.reason}"


@dataclass(frozen=True)
class Owner:
    name: str
    email: str
    department: str


@dataclass(frozen=True)
class Reason:
    """Why two texts matched: the best aligned sentence pair and the shared key terms."""

    sentence_a: str = ""
    sentence_b: str = ""
    sentence_score: float = 0.0
    shared_terms: tuple[str, ...] = ()

    def summary(self) -> str:
        parts = []
        if self.shared_terms:
            parts.append("shared terms: " + ", ".join(self.shared_terms))
        if self.sentence_a and self.sentence_b:
            parts.append(f'"{_clip(self.sentence_a)}" ~ "{_clip(self.sentence_b)}"')
        return "; ".join(parts) or "similar overall wording"


def _clip(text: str, n: int = 120) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


@dataclass(frozen=True)
class Match:
    """An existing initiative that a proposal (or another initiative) likely duplicates/overlaps."""

    id: str
    title: str
    department: str
    score: float  # calibrated probability that the pair is a duplicate or overlap
    tier: Tier
    reason: Reason
    owners: tuple[Owner, ...]
    same_department: bool = False
    similarity: float = 0.0  # raw cosine of the embeddings, for context
    decision: str = ""  # a known review decision on this pair, e.g. "overlap by alice"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "department": self.department,
            "score": round(self.score, 4),
            "tier": self.tier.value,
            "reason": self.reason.summary(),
            "owners": [asdict(o) for o in self.owners],
            "same_department": self.same_department,
            "similarity": round(self.similarity, 4),
            "decision": self.decision,
        }


@dataclass(frozen=True)
class OwnerContact:
    """Someone to call: an owner and the matches they own, ranked."""

    name: str
    email: str
    department: str
    initiatives: tuple[str, ...]
    weight: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "email": self.email,
            "department": self.department,
            "initiatives": list(self.initiatives),
        }


@dataclass(frozen=True)
class CheckResult:
    """The answer to `check`: ranked matches and the owners to contact."""

    proposal: Proposal
    matches: tuple[Match, ...]
    owners: tuple[OwnerContact, ...]
    below: tuple[Match, ...] = ()  # candidates under the bar, for --all

    @property
    def flagged(self) -> bool:
        """A duplicate or overlap that reviewers have not already decided."""
        return any(m.tier.flagged and not m.decision for m in self.matches)

    @property
    def exit_code(self) -> int:
        """0 nothing flagged, 3 at least one duplicate or overlap."""
        return 3 if self.flagged else 0

    def to_json(self, *, below: bool = False) -> dict[str, Any]:
        """{matches, owners}; with `below`, also the candidates under the bar (`--all`)."""
        out: dict[str, Any] = {
            "matches": [m.to_json() for m in self.matches],
            "owners": [o.to_json() for o in self.owners],
        }
        if below:
            out["below"] = [m.to_json() for m in self.below]
        return out


@dataclass(frozen=True)
class IngestSummary:
    """What an ingest did: rows in = indexed + quarantined, always."""

    rows_in: int
    indexed: int
    quarantined: int
    added: int
    updated: int
    removed: int
    unchanged: int
    embedded: int  # how many texts were actually encoded (cache misses)
    quarantine_path: str | None
    index_path: str
    sentences_embedded: int = 0  # sentences encoded for reasons (cache misses)
    notes: tuple[str, ...] = ()  # what the reader chose (a workbook's sheet, its header row)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def pair_key(id_a: str, id_b: str) -> tuple[str, str]:
    """The order-free key of a pair of initiatives."""
    return (id_a, id_b) if id_a <= id_b else (id_b, id_a)


@dataclass(frozen=True)
class Pair:
    """Two indexed initiatives that likely duplicate or overlap each other."""

    id_a: str
    id_b: str
    score: float
    tier: Tier
    similarity: float
    same_department: bool
