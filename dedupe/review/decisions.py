"""Typed review data: roles, verdicts, users, decisions and the standing decisions on a pair."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from dedupe.errors import UsageError


class Role(str, Enum):
    VIEWER = "viewer"
    REVIEWER = "reviewer"
    ADMIN = "admin"

    @property
    def can_decide(self) -> bool:
        return self in (Role.REVIEWER, Role.ADMIN)

    @property
    def can_admin(self) -> bool:
        return self is Role.ADMIN


class Verdict(str, Enum):
    DUPLICATE = "duplicate"
    OVERLAP = "overlap"
    NOT_RELATED = "not_related"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


def parse_verdict(value: str) -> Verdict:
    try:
        return Verdict(value.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        allowed = ", ".join(v.value for v in Verdict)
        raise UsageError(f"verdict {value!r}: expected one of {allowed}") from None


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise UsageError(f"role {value!r}: expected one of {allowed}") from None


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    active: bool


@dataclass(frozen=True)
class Decision:
    """One row of the audit trail (a verdict, or a `revoked` row undoing `revokes_id`)."""

    id: int
    id_a: str
    id_b: str
    verdict: str
    comment: str
    user: str
    created_at: datetime
    score: float | None
    model_id: str
    text_hash_a: str
    text_hash_b: str
    revokes_id: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.id_a, self.id_b)

    @property
    def label(self) -> str:
        return f"{self.verdict.replace('_', ' ')} by {self.user}"

    def matches_text(self, current_hashes: Mapping[str, str]) -> bool:
        """Was this decided on the texts the index holds now? (An empty stored hash = unknown.)"""
        ha, hb = current_hashes.get(self.id_a), current_hashes.get(self.id_b)
        if ha is None or hb is None:
            return False
        return self.text_hash_a in ("", ha) and self.text_hash_b in ("", hb)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "id_a": self.id_a,
            "id_b": self.id_b,
            "verdict": self.verdict,
            "comment": self.comment,
            "user": self.user,
            "created_at": self.created_at.isoformat(),
            "score": self.score,
            "model_id": self.model_id,
            "text_hash_a": self.text_hash_a,
            "text_hash_b": self.text_hash_b,
            "revokes_id": self.revokes_id,
        }


@dataclass(frozen=True)
class PairDecisions:
    """The standing decisions on one pair: each reviewer's latest verdict that was not undone."""

    key: tuple[str, str]
    decisions: tuple[Decision, ...]

    @property
    def conflict(self) -> bool:
        return len({d.verdict for d in self.decisions}) > 1

    @property
    def verdict(self) -> str | None:
        """The agreed verdict, or None when reviewers disagree."""
        return None if self.conflict or not self.decisions else self.decisions[0].verdict

    @property
    def label(self) -> str:
        if self.conflict:
            return "conflict: " + "; ".join(d.label for d in self.decisions)
        users = ", ".join(d.user for d in self.decisions)
        return f"{self.decisions[0].verdict.replace('_', ' ')} by {users}"
