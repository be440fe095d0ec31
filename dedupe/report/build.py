"""The report as data: find pairs, compare with the previous run, explain, group, roll up.

    report = build_report(Detector.open("indexes/gc"), previous=load_previous("reports/")[0])

`decided` (pair keys reviewers already decided, optionally with their label) is the one hook
through which the review store reaches the report: those pairs are never reported as new.
(`run.run_report` is the nightly job around this: lock, ingest, build, write.)
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from dedupe.departments import department_key
from dedupe.detector import Detector
from dedupe.errors import IndexCorruptError
from dedupe.match.owners import owners_of
from dedupe.match.reasons import shared_terms
from dedupe.records import Pair, Reason, Record, pair_key
from dedupe.report import carry, groups
from dedupe.report.history import (
    PreviousRun,
    assign_cluster_ids,
    ended_cluster_status,
    new_cluster_id,
    pair_status,
)
from dedupe.report.model import (
    ACTIVE,
    DISMISSED,
    MERGED,
    NEW,
    PERSISTING,
    RESOLVED,
    UNFLAGGED,
    Cluster,
    Community,
    Headline,
    Member,
    PairRow,
    Report,
    pair_id,
)
from dedupe.report.sources import SourceOutcome

log = logging.getLogger(__name__)


Stage = Callable[[str], None]


def build_report(
    detector: Detector,
    *,
    previous: PreviousRun | None = None,
    decided: Collection[tuple[str, str]] | Mapping[tuple[str, str], str] = (),
    sources: Sequence[SourceOutcome] = (),
    ingest: dict[str, Any] | None = None,
    k: int = 10,
    exact: bool = False,
    community_min_score: float | None = None,
    now: datetime | None = None,
    stage: Stage | None = None,
    warnings: Sequence[str] = (),
    timings: dict[str, float] | None = None,
) -> Report:
    """Pairs, statuses, clusters, communities and roll-ups for the index as it is now."""
    say = stage or (lambda s: None)
    timings = dict(timings or {})
    labels = dict(decided) if isinstance(decided, Mapping) else dict.fromkeys(decided, "decided")
    decisions = {pair_key(a, b): label for (a, b), label in labels.items()}
    now = now or datetime.now().astimezone()
    # One department, one name in the whole report (English/French names, capitals: the
    # name most of its records give it), so roll-ups, clusters and pairs count it once.
    names = _department_names(detector.records)
    records = _one_name_per_department({r.id: r for r in detector.records}, names)
    flag_at = detector.params.overlap_at
    loose = flag_at * 0.6 if community_min_score is None else community_min_score

    t = time.perf_counter()
    say(f"finding pairs among {len(records)} initiatives (FAISS, k={k})")
    all_pairs = detector.pairs(k=k, min_score=min(loose, flag_at), exact=exact)
    above = [p for p in all_pairs if p.score >= flag_at]
    ids, text_hashes = detector.column("id"), detector.column("text_hash")
    hashes = {str(i): str(h) for i, h in zip(ids, text_hashes, strict=True)}
    # Last run's pairs the neighbour search did not return tonight: scored directly (`carry`).
    followed = carry.follow_previous(
        detector, previous, {pair_key(p.id_a, p.id_b) for p in above}, hashes
    )
    if followed.carried:
        say(f"{len(followed.carried)} pair(s) of the last run missed by the search, still flagged")
    above += followed.carried
    # Reviewers said "not related": not an overlap, so not flagged (dismissed if it was).
    rejected = {
        pair_key(p.id_a, p.id_b): p
        for p in above
        if dismissed(decisions.get(pair_key(p.id_a, p.id_b), ""))
    }
    flagged = [p for p in above if pair_key(p.id_a, p.id_b) not in rejected]
    ended = dict(followed.ended)
    if previous is not None:
        ended |= {key: DISMISSED for key in previous.pairs if key in rejected}
    timings["pairs"] = time.perf_counter() - t

    t = time.perf_counter()
    say(f"explaining {sum(not p.same_department for p in flagged)} cross-department pairs")
    reasons = _reasons(detector, flagged)
    timings["reasons"] = time.perf_counter() - t

    t = time.perf_counter()
    labeler = groups.Labeler(detector.lexical, {i: r.text for i, r in records.items()})
    rows = [
        _pair_row(p, records, reasons[i], previous, decisions, hashes)
        for i, p in enumerate(flagged)
    ]
    cross = [r for r in rows if not r.same_department]
    same = [r for r in rows if r.same_department]
    clusters, cluster_of = _clusters(cross, records, labeler, previous, ended)
    cross = [_with_cluster(r, cluster_of) for r in cross]
    tonight = {**followed.scores, **{key: p.score for key, p in rejected.items()}}
    gone = [
        carry.ended_row(previous, key, status, detector.params, tonight.get(key), decisions)
        for key, status in sorted(ended.items())
        if previous is not None
    ]
    cross += [r for r in gone if not r.same_department]
    same += [r for r in gone if r.same_department]
    comms = _communities([*all_pairs, *followed.carried], loose, records, labeler)
    active = [r for r in cross if r.status in ACTIVE]
    departments, matrix = _rollup(active, names)
    timings["groups"] = time.perf_counter() - t

    current = [c for c in clusters if c.status in ACTIVE]
    clustered = {m.id: m.budget for c in current for m in c.members}
    budgets = [b for b in clustered.values() if b is not None]
    carried = {pair_key(p.id_a, p.id_b) for p in followed.carried}
    headline = Headline(
        initiatives=len(records),
        departments=len({department_key(r.department) for r in records.values()}),
        pairs_flagged=len(active),
        same_department_pairs=sum(1 for r in same if r.status in ACTIVE),
        new=sum(1 for r in active if r.status == NEW),
        resolved=sum(1 for r in cross if r.status == RESOLVED),
        persisting=sum(1 for r in active if r.status == PERSISTING),
        clusters=len(current),
        new_clusters=sum(1 for c in current if c.status == NEW),
        communities=len(comms),
        budget_at_stake=float(sum(budgets)) if budgets else None,
        budget_known=len(budgets),
        sources_failed=sum(1 for s in sources if not s.ok),
        dismissed=sum(1 for p in rejected.values() if not p.same_department),
        newly_dismissed=sum(1 for r in cross if r.status == DISMISSED),
        no_longer_flagged=sum(1 for r in cross if r.status == UNFLAGGED),
        carried=sum(1 for r in active if (r.id_a, r.id_b) in carried),
    )
    return Report(
        run_id=now.strftime("%Y-%m-%dT%H%M%S"),
        created=now.isoformat(timespec="seconds"),
        index_path=str(detector.path),
        model_id=detector.encoder.model_id,
        previous_run=previous.run_id if previous else None,
        headline=headline,
        sources=tuple(sources),
        ingest=dict(ingest or {}),
        pairs=tuple(_order(cross)),
        same_department=tuple(_order(same)),
        clusters=tuple(clusters),
        communities=tuple(comms),
        departments=tuple(departments),
        matrix=tuple(tuple(r) for r in matrix),
        warnings=tuple(warnings),
        timings=timings,
    )


def dismissed(decision: str) -> bool:
    """A decision label (`known_decisions`) by which reviewers agreed the pair is not related."""
    return decision.startswith("not related")


_STATUS_ORDER = {NEW: 0, PERSISTING: 1, RESOLVED: 2, DISMISSED: 3, UNFLAGGED: 4, MERGED: 5}


def _order(rows: list[PairRow]) -> list[PairRow]:
    return sorted(rows, key=lambda r: (_STATUS_ORDER[r.status], -r.score, r.pair_id))


def owner_label(record: Record) -> str:
    """Every owner of the record, `Name <address>` each, joined by "; "."""
    return "; ".join(
        f"{o.name} <{o.email}>" if o.name and o.email else o.name or o.email
        for o in owners_of(record)
    )


def _member(record: Record) -> Member:
    return Member(record.id, record.title, record.department, owner_label(record), record.budget)


def _reasons(detector: Detector, pairs: Sequence[Pair]) -> list[Reason]:
    """One reason per pair, on the texts as scored (boilerplate stripped, acronyms spelled out).

    Cross-department pairs get the aligned sentences (from the sentence vectors the ingest
    stored) and shared terms; same-department pairs (reported separately, often many) get the
    shared terms only.
    """
    if not pairs:
        return []
    rows = [(_row(detector, p.id_a), _row(detector, p.id_b)) for p in pairs]
    cross = [n for n, p in enumerate(pairs) if not p.same_department]
    aligned = dict(zip(cross, detector.explain_rows([rows[n] for n in cross]), strict=True))
    out = []
    for n, (a, b) in enumerate(rows):
        reason = aligned.get(n)
        if reason is None:
            ta, tb = detector.record_text(a), detector.record_text(b)
            reason = Reason(shared_terms=shared_terms(ta, tb, detector.lexical))
        out.append(reason)
    return out


def _row(detector: Detector, record_id: str) -> int:
    pos = detector.position(record_id)
    if pos is None:
        raise IndexCorruptError(f"{detector.path}: a pair names {record_id!r}, not in the index")
    return pos


def _pair_row(
    p: Pair,
    records: dict[str, Record],
    reason: Reason,
    previous: PreviousRun | None,
    decisions: Mapping[tuple[str, str], str],
    hashes: Mapping[str, str],
) -> PairRow:
    a, b = records[p.id_a], records[p.id_b]
    key = pair_key(p.id_a, p.id_b)
    return PairRow(
        pair_id=pair_id(*key),
        id_a=a.id,
        id_b=b.id,
        title_a=a.title,
        title_b=b.title,
        department_a=a.department,
        department_b=b.department,
        owner_a=owner_label(a),
        owner_b=owner_label(b),
        score=round(p.score, 4),
        tier=p.tier.value,
        similarity=round(p.similarity, 4),
        same_department=p.same_department,
        status=pair_status(key, previous, decisions),
        decided=key in decisions,
        decision=decisions.get(key, ""),
        reason=reason.summary(),
        shared_terms="; ".join(reason.shared_terms),
        sentence_a=reason.sentence_a,
        sentence_b=reason.sentence_b,
        text_hash_a=hashes.get(a.id, ""),
        text_hash_b=hashes.get(b.id, ""),
    )


def _with_cluster(row: PairRow, cluster_of: dict[str, str]) -> PairRow:
    return replace(row, cluster_id=cluster_of.get(row.id_a, ""))


def _clusters(
    cross: Sequence[PairRow],
    records: dict[str, Record],
    labeler: groups.Labeler,
    previous: PreviousRun | None,
    ended: Mapping[tuple[str, str], str],
) -> tuple[list[Cluster], dict[str, str]]:
    """Connected components of the current cross-department pairs, with inherited ids; then the
    previous run's clusters no component inherited, with what became of them (`ended`: the
    statuses of the previous pairs not flagged tonight)."""
    comps = groups.components((r.id_a, r.id_b) for r in cross)
    prev = previous.clusters if previous else {}
    inherited = assign_cluster_ids(comps, prev)
    taken = set(prev) | {c for c in inherited if c}
    out: list[Cluster] = []
    cluster_of: dict[str, str] = {}
    for comp, cid in zip(comps, inherited, strict=True):
        comp_pairs = [r for r in cross if r.id_a in comp]
        if cid is None:
            cid = new_cluster_id(comp, taken)
            taken.add(cid)
            status = NEW if any(r.status == NEW for r in comp_pairs) else PERSISTING
            joined: tuple[str, ...] = ()
        else:
            status = PERSISTING
            joined = tuple(sorted(comp - prev[cid]))
        members = sorted((records[i] for i in comp), key=lambda r: (r.department, r.title, r.id))
        out.append(
            Cluster(
                cluster_id=cid,
                status=status,
                label=labeler.label([r.id for r in members]),
                members=tuple(_member(r) for r in members),
                departments=tuple(sorted({r.department for r in members})),
                max_score=max(r.score for r in comp_pairs),
                n_pairs=len(comp_pairs),
                new_members=joined,
                budget=_budget(members),
            )
        )
        for i in comp:
            cluster_of[i] = cid
    used = set(cluster_of.values())
    pairs_of: dict[str, list[tuple[str, str]]] = {}
    for key, row in (previous.pairs if previous else {}).items():
        pairs_of.setdefault(str(row.get("cluster_id") or ""), []).append(key)
    for cid in sorted(set(prev) - used):
        gone = [records[i] for i in sorted(prev[cid]) if i in records]
        statuses = [ended.get(key, PERSISTING) for key in pairs_of.get(cid, [])]
        now_in = Counter(cluster_of[i] for i in prev[cid] if i in cluster_of)
        into = ""  # its pairs still flagged, in the cluster holding most of its members
        if PERSISTING in statuses and now_in:
            into = min(now_in.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        out.append(
            Cluster(
                cluster_id=cid,
                status=ended_cluster_status(statuses, merged=bool(into)),
                merged_into=into,
                label=labeler.label([r.id for r in gone]) if gone else "",
                members=tuple(_member(r) for r in gone)
                or tuple(Member(i, "", "", "") for i in sorted(prev[cid])),
                departments=tuple(sorted({r.department for r in gone})),
                max_score=0.0,
                n_pairs=0,
                budget=_budget(gone),
            )
        )
    out.sort(
        key=lambda c: (_STATUS_ORDER[c.status], -len(c.departments), -len(c.members), c.cluster_id)
    )
    return out, cluster_of


def _budget(records: Sequence[Record]) -> float | None:
    known = [r.budget for r in records if r.budget is not None]
    return float(sum(known)) if known else None


def _communities(
    pairs: Sequence[Pair], floor: float, records: dict[str, Record], labeler: groups.Labeler
) -> list[Community]:
    department_of = {i: department_key(r.department) for i, r in records.items()}
    found = groups.communities(
        ((p.id_a, p.id_b, p.score) for p in pairs if p.score >= floor), department_of
    )
    out = []
    for n, comm in enumerate(found, start=1):
        members = sorted((records[i] for i in comm), key=lambda r: (r.department, r.title, r.id))
        out.append(
            Community(
                community_id=f"cp-{n:03d}",
                label=labeler.label([r.id for r in members]),
                members=tuple(_member(r) for r in members),
                departments=tuple(sorted({r.department for r in members})),
            )
        )
    return out


def _one_name_per_department(
    records: dict[str, Record], names: Mapping[str, str]
) -> dict[str, Record]:
    """Each record under its department's one name (`_department_names`)."""
    out = {}
    for i, r in records.items():
        name = names.get(department_key(r.department), r.department)
        out[i] = r if name == r.department else replace(r, department=name)
    return out


def _department_names(records: Iterable[Record]) -> dict[str, str]:
    """Each department (`department_key`) under the name most of its records give it (a tie:
    not in capitals, then the first alphabetically)."""
    counts: dict[str, Counter[str]] = {}
    for r in records:
        counts.setdefault(department_key(r.department), Counter())[r.department] += 1
    return {k: min(c, key=lambda name: (-c[name], name.isupper(), name)) for k, c in counts.items()}


def _rollup(
    cross: Sequence[PairRow], names: Mapping[str, str]
) -> tuple[list[str], list[list[int]]]:
    """Department × department counts of current cross-department pairs, busiest first; a
    department named in English and in French is one row, under its commoner name."""

    def name(department: str) -> str:
        return names.get(department_key(department), department)

    totals: Counter[str] = Counter()
    for r in cross:
        totals[name(r.department_a)] += 1
        totals[name(r.department_b)] += 1
    departments = [d for d, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]
    pos = {d: i for i, d in enumerate(departments)}
    matrix = [[0] * len(departments) for _ in departments]
    for r in cross:
        i, j = pos[name(r.department_a)], pos[name(r.department_b)]
        matrix[i][j] += 1
        matrix[j][i] += 1
    return departments, matrix
