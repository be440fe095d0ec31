"""The review queue: the index's flagged pairs joined with the standing decisions.

Plain library code shared by the web pages and the JSON API: which pairs are open, decided or in
conflict, filtered by department / tier / status, and why each pair matched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

from dedupe.detector import Detector
from dedupe.embed.encoder import Encoder
from dedupe.errors import UsageError
from dedupe.index.manifest import read_manifest
from dedupe.match.owners import owners_of
from dedupe.match.reasons import explain_many
from dedupe.records import Owner, Pair, Reason, Record, pair_key
from dedupe.review.store import PairDecisions
from dedupe.text import split_sentences, tokenize

log = logging.getLogger(__name__)


class Status(str, Enum):
    OPEN = "open"  # undecided or in conflict: what still needs a reviewer
    UNDECIDED = "undecided"
    CONFLICT = "conflict"
    DECIDED = "decided"
    ALL = "all"


def parse_status(value: str | None) -> Status:
    try:
        return Status((value or "open").strip().lower())
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise UsageError(f"status {value!r}: expected one of {allowed}") from None


@dataclass(frozen=True)
class QueueItem:
    """One flagged pair as a reviewer sees it."""

    pair: Pair
    a: Record
    b: Record
    decisions: PairDecisions | None = None
    reason: Reason | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.pair.id_a, self.pair.id_b)

    @property
    def status(self) -> Status:
        if self.decisions is None or not self.decisions.decisions:
            return Status.UNDECIDED
        return Status.CONFLICT if self.decisions.conflict else Status.DECIDED

    @property
    def owners_a(self) -> tuple[Owner, ...]:
        return owners_of(self.a)

    @property
    def owners_b(self) -> tuple[Owner, ...]:
        return owners_of(self.b)

    def to_json(self) -> dict[str, Any]:
        def side(r: Record) -> dict[str, Any]:
            return {
                "id": r.id,
                "title": r.title,
                "department": r.department,
                "url": r.url,
                "owners": [{"name": o.name, "email": o.email} for o in owners_of(r)],
            }

        return {
            "id_a": self.pair.id_a,
            "id_b": self.pair.id_b,
            "score": round(self.pair.score, 4),
            "tier": self.pair.tier.value,
            "similarity": round(self.pair.similarity, 4),
            "same_department": self.pair.same_department,
            "status": self.status.value,
            "decision": self.decisions.label if self.decisions else "",
            "decisions": [d.to_json() for d in self.decisions.decisions] if self.decisions else [],
            "a": side(self.a),
            "b": side(self.b),
            "reason": self.reason.summary() if self.reason else None,
        }


def highlight(text: str, sentence: str) -> list[tuple[str, bool]]:
    """`text` cut into (segment, is_the_aligned_sentence) parts, for safe highlighting.

    The aligned sentence comes from the scored text (boilerplate cut, acronyms spelled out),
    so it is often not in the description word for word: then the description's sentence
    whose words are mostly in it (60%), sharing the most, is marked."""
    if not text:
        return []
    at, length = _locate(text, sentence)
    if at < 0:
        return [(text, False)]
    parts = [(text[:at], False), (text[at : at + length], True), (text[at + length :], False)]
    return [p for p in parts if p[0]]


def _locate(text: str, sentence: str) -> tuple[int, int]:
    if not sentence:
        return -1, 0
    at = text.find(sentence)
    if at >= 0:
        return at, len(sentence)
    want = set(tokenize(sentence))
    best, most = "", 0
    for candidate in split_sentences(text):
        words = set(tokenize(candidate))
        shared = len(want & words)
        # Most of the candidate's own words are in the aligned sentence (which may add spelled-
        # out acronyms); among those, the one sharing most words.
        if words and shared / len(words) >= 0.6 and shared > most:
            best, most = candidate, shared
    at = text.find(best) if best else -1
    return at, len(best)


class ReviewQueue:
    """Flagged pairs of one index, computed once per index generation (thread-safe)."""

    def __init__(
        self, index: str | Path, encoder: Encoder | str | None = None, k: int = 10
    ) -> None:
        self.index_path = Path(index)
        self._encoder = encoder
        self.k = k
        self._lock = threading.Lock()
        self._generation = -1
        self._detector: Detector | None = None
        self._pairs: list[Pair] = []
        self._by_id: dict[str, Record] = {}
        self._hashes: dict[str, str] = {}

    def _load(self) -> None:
        generation = read_manifest(self.index_path).generation
        if generation == self._generation and self._detector is not None:
            return
        with self._lock:
            if generation == self._generation and self._detector is not None:
                return
            det = Detector.open(self.index_path, encoder=self._encoder)
            self._encoder = det.encoder
            self._pairs = det.pairs(k=self.k)
            self._by_id = {r.id: r for r in det.records}
            frame = det.index.frame
            self._hashes = dict(zip(frame["id"], frame["text_hash"], strict=True))
            self._detector, self._generation = det, generation
            log.info(
                "review queue: %d flagged pairs in %s (generation %d)",
                len(self._pairs),
                self.index_path,
                generation,
            )

    def warm(self) -> None:
        """Open the index and compute its flagged pairs now (otherwise: on first use)."""
        self._load()

    @property
    def detector(self) -> Detector:
        self._load()
        assert self._detector is not None
        return self._detector

    @property
    def current_hashes(self) -> Mapping[str, str]:
        self._load()
        return self._hashes

    def record(self, id: str) -> Record | None:
        self._load()
        return self._by_id.get(id)

    def pair(self, id_a: str, id_b: str) -> Pair | None:
        self._load()
        key = pair_key(id_a, id_b)
        return next((p for p in self._pairs if (p.id_a, p.id_b) == key), None)

    def departments(self) -> list[str]:
        self._load()
        return sorted({r.department for r in self._by_id.values()})

    def items(
        self,
        decisions: Mapping[tuple[str, str], PairDecisions],
        *,
        department: str | None = None,
        tier: str | None = None,
        status: Status = Status.OPEN,
        involving: str | None = None,
        cross_only: bool = False,
    ) -> list[QueueItem]:
        """Flagged pairs, highest score first, filtered (`cross_only`: pairs of two departments).
        `decisions`: store.latest_decisions(current hashes), so a pair whose text changed since
        its decision is undecided again."""
        self._load()
        if tier and tier not in ("duplicate", "overlap"):
            raise UsageError(f"tier {tier!r}: expected duplicate or overlap")
        out = []
        for p in self._pairs:
            a, b = self._by_id[p.id_a], self._by_id[p.id_b]
            if department and department not in (a.department, b.department):
                continue
            if tier and p.tier.value != tier:
                continue
            if involving and involving not in (p.id_a, p.id_b):
                continue
            if cross_only and p.same_department:
                continue
            item = QueueItem(p, a, b, decisions.get((p.id_a, p.id_b)))
            st = item.status
            if status is Status.OPEN and st is Status.DECIDED:
                continue
            if status not in (Status.OPEN, Status.ALL) and st is not status:
                continue
            out.append(item)
        return out

    def explain(self, items: Sequence[QueueItem]) -> list[QueueItem]:
        """The same items with their reason (aligned sentences, shared terms) filled in."""
        det = self.detector
        rows = [(det.position(item.a.id), det.position(item.b.id)) for item in items]
        known = [(a, b) for a, b in rows if a is not None and b is not None]
        stored = iter(det.explain_rows(known))
        out = []
        for item, (a, b) in zip(items, rows, strict=True):
            if a is not None and b is not None:
                reason = next(stored)
            else:  # the index changed under the queue: explain the texts as they are
                reason = explain_many(
                    item.a.text, [item.b.text], det.sentences.encode, det.lexical
                )[0]
            out.append(replace(item, reason=reason))
        return out
