"""Comparing with the previous run: pair statuses and stable cluster ids.

The previous run is the folder the `latest` link in the output directory points to. Its
`pairs.parquet` gives the pairs that were active (new or persisting) then; its `clusters.parquet`
gives the clusters and their members, so a cluster that gains or loses a member keeps its id.
What became of a previous pair tonight is `carry`'s; of a previous cluster, `ended_cluster_status`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dedupe.report.model import ACTIVE, DISMISSED, MERGED, NEW, PERSISTING, RESOLVED, UNFLAGGED

log = logging.getLogger(__name__)

LATEST = "latest"


@dataclass(frozen=True)
class PreviousRun:
    """What the previous report said: its active pairs and clusters (ended ones are history)."""

    run_id: str
    pairs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # key → row
    clusters: dict[str, frozenset[str]] = field(default_factory=dict)  # id → member ids
    # pairs reviewers had dismissed ("not related"): scored again when the neighbour search
    # misses them, so that one whose text changed since is flagged again, not lost
    dismissed: frozenset[tuple[str, str]] = frozenset()


def load_previous(out_dir: str | Path) -> tuple[PreviousRun | None, list[str]]:
    """The run `out_dir/latest` points to, or None on the first run; plus warnings.

    An unreadable previous run is a warning, not a failure: tonight's report still gets written
    (with every pair counted as new), and says why.
    """
    link = Path(out_dir) / LATEST
    if not link.exists():
        return None, []
    folder = link.resolve()
    try:
        pairs = pd.read_parquet(folder / "pairs.parquet")
        clusters = pd.read_parquet(folder / "clusters.parquet")
    except (OSError, ValueError) as exc:
        msg = f"previous run {folder} is unreadable ({exc}); every pair is counted as new"
        log.warning(msg)
        return None, [msg]
    active_pairs = pairs[pairs["status"].isin(ACTIVE)]
    prev_pairs: dict[tuple[str, str], dict[str, Any]] = {
        (str(r["id_a"]), str(r["id_b"])): {str(k): v for k, v in r.items()}
        for r in active_pairs.to_dict(orient="records")
    }
    active_clusters = clusters[clusters["status"].isin(ACTIVE)]
    prev_clusters = {
        str(cid): frozenset(_as_list(members))
        for cid, members in zip(
            active_clusters["cluster_id"], active_clusters["member_ids"], strict=True
        )
    }
    gone = pairs[pairs["status"] == DISMISSED]
    dismissed = frozenset((str(a), str(b)) for a, b in zip(gone["id_a"], gone["id_b"], strict=True))
    return PreviousRun(folder.name, prev_pairs, prev_clusters, dismissed), []


def _as_list(value: object) -> list[str]:
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [v for v in value.split("; ") if v]
    return []


def pair_status(
    key: tuple[str, str], previous: PreviousRun | None, decided: Collection[tuple[str, str]]
) -> str:
    """`persisting` if the pair was active last run or a reviewer already decided it, else `new`."""
    if previous is not None and key in previous.pairs:
        return PERSISTING
    if key in decided:
        return PERSISTING
    return NEW


def ended_cluster_status(pair_statuses: Collection[str], merged: bool = False) -> str:
    """The status of a previous cluster no cluster of tonight inherited, from its pairs' statuses.

    `merged` (its still-flagged pairs sit in another cluster now, which kept the other id):
    `merged`. Else `dismissed` when reviewers dismissed every one of its pairs, `resolved` when
    an initiative of one was removed or changed (or its pairs are unknown), else `unflagged`.
    """
    if merged:
        return MERGED
    if pair_statuses and all(s == DISMISSED for s in pair_statuses):
        return DISMISSED
    if not pair_statuses or RESOLVED in pair_statuses:
        return RESOLVED
    return UNFLAGGED if UNFLAGGED in pair_statuses else DISMISSED


def assign_cluster_ids(
    components: Sequence[frozenset[str]], previous: Mapping[str, frozenset[str]]
) -> list[str | None]:
    """The previous cluster id each component inherits (None: a new cluster).

    Greedy by member overlap: the largest overlap wins; each previous id goes to at most one
    component (when a cluster splits, the bigger part keeps the id; when two merge, the merged
    cluster keeps the id of the one it shares most members with; ties go to the smaller id).
    """
    candidates = []
    for i, comp in enumerate(components):
        for cid, members in previous.items():
            shared = len(comp & members)
            if shared:
                candidates.append((-shared, cid, i))
    candidates.sort()
    out: list[str | None] = [None] * len(components)
    used: set[str] = set()
    for _, cid, i in candidates:
        if out[i] is None and cid not in used:
            out[i] = cid
            used.add(cid)
    return out


def new_cluster_id(members: Iterable[str], taken: Collection[str]) -> str:
    """A fresh id from the founding members (so a rebuilt history gives the same ids)."""
    base = "\x1f".join(sorted(members))
    salt = 0
    while True:
        digest = hashlib.sha1(f"{base}\x1e{salt}".encode()).hexdigest()[:10]
        cid = f"c-{digest}"
        if cid not in taken:
            return cid
        salt += 1
