"""Yesterday's pairs tonight: still flagged, resolved, dismissed or no longer flagged.

Tonight's pairs come from each initiative's k nearest neighbours (`Detector.pairs`). A pair the
previous run flagged can be missing from that list while both initiatives are still there with
the same texts: in a family of many near-identical initiatives a newcomer pushes two old members
out of each other's top k. That pair is not resolved. So every pair of the previous run that the
neighbour search did not return is scored again, directly, with the current scorer:

- at or above the flag bar: carried, still flagged (`persisting`), as if the search had found it;
  so is a pair whose two texts are unchanged down to `KEEP_MARGIN` under the bar (new records
  move the portfolio's term weights a little each night: a pair at the bar is not reported new,
  gone and new again);
- below that, one of the two initiatives removed or its text changed: `resolved`;
- below that, both texts unchanged (the scorer, its threshold or the portfolio's term weights
  moved): `unflagged`, "no longer flagged" — never called resolved.

A pair reviewers decided is not related is `dismissed` (by `build`), whatever the score.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from dedupe.departments import department_key
from dedupe.pairs import score_index_pairs
from dedupe.records import Pair, Tier
from dedupe.report.model import DISMISSED, RESOLVED, UNFLAGGED, PairRow, pair_id

if TYPE_CHECKING:
    from dedupe.detector import Detector
    from dedupe.match.scoring import ScorerParams
    from dedupe.report.history import PreviousRun


# How far under the bar a flagged pair with unchanged texts stays flagged. Measured on the
# 2,860-record sample (benchmarks/report_drift.py, scorer v14): such a pair's score moves by at
# most 0.0002 when 1% of the descriptions change, 0.056 with 1% more records too (none falls
# more than 0.05 under the bar), 0.060 with 10% new records (1 of 865 falls more than 0.05 under).
KEEP_MARGIN = 0.05


@dataclass(frozen=True)
class Followed:
    """What became of the previous run's pairs the neighbour search did not return tonight."""

    carried: tuple[Pair, ...] = ()  # re-scored at or above the bar: still flagged
    ended: Mapping[tuple[str, str], str] = field(default_factory=dict)  # key → resolved|unflagged
    scores: Mapping[tuple[str, str], float] = field(default_factory=dict)  # tonight's, if scored


def score_rows(detector: Detector, rows: Sequence[tuple[int, int]]) -> tuple[np.ndarray, ...]:
    """(probability, cosine) of pairs of indexed records (rows), scored as `Detector.pairs` does.

    The same features from the same inputs as the all-pairs stage (`dedupe.pairs.find_pairs`):
    the stored vectors' cosine, the stripped texts, the index's own TF-IDF rows and token
    counts, titles, departments, languages and the acronym homonym check.
    """
    if not rows:
        return np.zeros(0), np.zeros(0)
    a = np.array([min(r) for r in rows], dtype=np.int64)  # find_pairs scores (lower, higher)
    b = np.array([max(r) for r in rows], dtype=np.int64)
    vectors = detector.index.vectors
    dense = np.einsum(
        "nd,nd->n", np.asarray(vectors[a], dtype=np.float32), np.asarray(vectors[b], np.float32)
    )
    return score_index_pairs(detector, a, b, dense), dense


def follow_previous(
    detector: Detector,
    previous: PreviousRun | None,
    found: Collection[tuple[str, str]],
    hashes: Mapping[str, str],
) -> Followed:
    """Score again the previous run's pairs missing from `found` (tonight's pairs above the bar).

    `hashes`: {id: text hash} of the index now; a previous pair row without its text hashes (a
    report written before they were recorded) counts as changed when it falls below the bar.
    """
    if previous is None:
        return Followed()
    # Last run's flagged pairs, and the pairs reviewers had dismissed (carried only while above
    # the bar: `build` keeps them dismissed while the decision stands, flags them once a text
    # changed), that tonight's neighbour search did not return.
    missing = sorted(k for k in previous.pairs if k not in found)
    missing += sorted(k for k in previous.dismissed if k not in found and k not in previous.pairs)
    ended: dict[tuple[str, str], str] = {}
    todo: list[tuple[str, str]] = []
    rows: list[tuple[int, int]] = []
    for key in missing:
        pa, pb = detector.position(key[0]), detector.position(key[1])
        if pa is not None and pb is not None:
            todo.append(key)
            rows.append((pa, pb))
        elif key in previous.pairs:
            ended[key] = RESOLVED  # an initiative was removed
    probs, dense = score_rows(detector, rows)
    flag_at = detector.params.overlap_at
    depts = detector.column("department")
    carried: list[Pair] = []
    scores: dict[tuple[str, str], float] = {}
    for key, (pa, pb), p, s in zip(todo, rows, probs.tolist(), dense.tolist(), strict=True):
        unchanged = key in previous.pairs and _unchanged(previous.pairs[key], key, hashes)
        keep_at = flag_at - KEEP_MARGIN if unchanged else flag_at
        if p >= keep_at:
            tier = detector.params.tier(p)
            carried.append(
                Pair(
                    id_a=key[0],
                    id_b=key[1],
                    score=p,
                    tier=tier if tier is not Tier.BELOW else Tier.OVERLAP,  # kept: see above
                    similarity=s,
                    same_department=department_key(str(depts[pa]))
                    == department_key(str(depts[pb])),
                )
            )
        if key not in previous.pairs:  # a dismissed one: nothing ends, nothing to list
            continue
        scores[key] = p
        if p < keep_at:
            ended[key] = UNFLAGGED if unchanged else RESOLVED
    return Followed(tuple(carried), ended, scores)


def _unchanged(row: Mapping[str, object], key: tuple[str, str], hashes: Mapping[str, str]) -> bool:
    """Both texts hash as they did when the previous run flagged the pair."""
    before = (row.get("text_hash_a"), row.get("text_hash_b"))
    if not all(isinstance(h, str) and h for h in before):
        return False
    return before == (hashes.get(key[0]), hashes.get(key[1]))


def ended_row(
    previous: PreviousRun | None,
    key: tuple[str, str],
    status: str,
    params: ScorerParams,
    score: float | None,
    decisions: Mapping[tuple[str, str], str],
) -> PairRow:
    """The previous run's row of a pair not flagged tonight, with its new status.

    A pair scored tonight (`dismissed`, `unflagged`) shows tonight's score and tier; a
    `dismissed` one the reviewers' decision.
    """
    assert previous is not None
    old = previous.pairs[key]

    def text(name: str) -> str:
        value = old.get(name)
        return "" if value is None or (isinstance(value, float) and value != value) else str(value)

    decision = decisions.get(key, "") if status == DISMISSED else text("decision")
    return PairRow(
        pair_id=text("pair_id") or pair_id(*key),
        id_a=key[0],
        id_b=key[1],
        title_a=text("title_a"),
        title_b=text("title_b"),
        department_a=text("department_a"),
        department_b=text("department_b"),
        owner_a=text("owner_a"),
        owner_b=text("owner_b"),
        score=round(score, 4) if score is not None else float(old.get("score") or 0.0),
        tier=params.tier(score).value if score is not None else text("tier"),
        similarity=float(old.get("similarity") or 0.0),
        same_department=bool(old.get("same_department", False)),
        status=status,
        decided=bool(decision) or bool(old.get("decided", False)),
        decision=decision,
        reason=text("reason"),
        shared_terms=text("shared_terms"),
        sentence_a=text("sentence_a"),
        sentence_b=text("sentence_b"),
        cluster_id=text("cluster_id"),
        text_hash_a=text("text_hash_a"),
        text_hash_b=text("text_hash_b"),
    )
