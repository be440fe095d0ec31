"""The nightly job: lock the index, re-ingest the sources, build the report, write it.

    from dedupe.report import load_sources, run_report
    result = run_report("indexes/gc", load_sources("sources.toml"), "reports/")
    result.folder            # reports/2025-01-31T020000 (and reports/latest points to it)
    result.report.headline   # the figures monitoring reads from summary.json

One run holds the index's write lock (`<index>/.lock`, the lock `dedupe ingest` takes) from the
first read to the `latest` swap, and the reports folder's own lock (`<out>/.lock`): a second run
on the same index or into the same folder is refused (or waits `lock_timeout` seconds) with
`IndexLockedError`, and no `dedupe ingest` can change the index under a running report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from dedupe.detector import Detector
from dedupe.embed.encoder import Encoder
from dedupe.errors import IndexLockedError, IngestError
from dedupe.index.lock import LOCK_NAME, index_lock
from dedupe.index.manifest import MANIFEST
from dedupe.ingest import write_quarantine
from dedupe.report.build import Stage, build_report
from dedupe.report.history import load_previous
from dedupe.report.model import Report
from dedupe.report.sources import SourceSpec, read_sources, settle_outcomes

log = logging.getLogger(__name__)

OUT_LOCK = ".lock"

# Pairs reviewers decided: keys, {key: "overlap by alice"}, or a function of the freshly
# ingested detector returning either (decisions only count on the texts the index holds now).
Decided = (
    Collection[tuple[str, str]]
    | Mapping[tuple[str, str], str]
    | Callable[[Detector], Collection[tuple[str, str]] | Mapping[tuple[str, str], str]]
)


@dataclass(frozen=True)
class RunResult:
    report: Report
    folder: Path  # the dated report folder (out/latest points to it)

    @property
    def exit_code(self) -> int:
        """0 all sources read; 4 the report was written but at least one source failed."""
        return 4 if self.report.failed_sources else 0


def report_lock(index: str | Path, timeout: float = 0) -> FileLock:
    """The lock a report run holds for its whole length: the index's own write lock."""
    return index_lock(index, timeout)


@contextmanager
def _held(lock: FileLock, message: str) -> Iterator[FileLock]:
    try:
        lock.acquire()
    except Timeout:
        raise IndexLockedError(message) from None
    try:
        yield lock
    finally:
        lock.release()


def run_report(
    index: str | Path,
    sources: Sequence[SourceSpec],
    out_dir: str | Path,
    *,
    encoder: Encoder | str | None = None,
    decided: Decided = (),
    k: int = 10,
    exact: bool = False,
    community_min_score: float | None = None,
    lock_timeout: float = 0,
    now: datetime | None = None,
    stage: Stage | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> RunResult:
    """The whole nightly job: ingest every source, build the report, write it, swap `latest`.

    Raises `IndexLockedError` when another run holds the index or the reports folder (after
    `lock_timeout` seconds), `IngestError` when there is no index yet and no source could be read.
    """
    from dedupe.report.output import write_report  # output renders HTML; keep import light

    index, out = Path(index), Path(out_dir)
    waited = f" after waiting {lock_timeout:g} s" if lock_timeout else ""
    with ExitStack() as stack:
        lock = stack.enter_context(
            _held(
                report_lock(index, lock_timeout),
                f"{index}: another dedupe run (`dedupe report` or `dedupe ingest`) holds this "
                f"index (lock {index / LOCK_NAME}){waited}; wait for it to finish, or pass "
                "--wait SECONDS to queue behind it",
            )
        )
        out.mkdir(parents=True, exist_ok=True)
        stack.enter_context(
            _held(
                FileLock(str(out / OUT_LOCK), timeout=lock_timeout),
                f"{out}: another `dedupe report` run is writing to this reports folder "
                f"(lock {out / OUT_LOCK}){waited}; wait for it to finish",
            )
        )
        say = stage or (lambda s: None)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        say(f"reading {len(sources)} source(s)")
        loaded, outcomes = read_sources(sources)
        ingest_json: dict[str, Any] = {}
        quarantine: str | None = None
        if loaded.records:
            say(f"ingesting {len(loaded.records)} records (unchanged ones are not re-embedded)")
            summary = Detector.ingest_records(
                index, loaded, encoder=encoder, progress=progress, on_total=on_total, lock=lock
            )
            ingest_json = summary.to_json()
            quarantine = summary.quarantine_path
        else:  # nothing to ingest; the rows of sources all quarantined are still written
            path = write_quarantine(loaded.problems, index)
            quarantine = str(path) if path else None
            if not (index / MANIFEST).exists():
                reasons = "; ".join(f"{o.name}: {o.reason}" for o in outcomes)
                where = f"; quarantined rows and reasons: {quarantine}" if quarantine else ""
                raise IngestError(
                    f"{index}: no index yet and no source could be read ({reasons}){where}"
                )
        timings["ingest"] = time.perf_counter() - t0
        detector = Detector.open(index, encoder=encoder if isinstance(encoder, Encoder) else None)
        if loaded.records:
            outcomes = settle_outcomes(outcomes, loaded, detector.index.frame)
        outcomes = [
            replace(o, quarantine=quarantine or "") if o.quarantined else o for o in outcomes
        ]
        decisions = decided(detector) if callable(decided) else decided
        previous, warnings = load_previous(out)
        report = build_report(
            detector,
            previous=previous,
            decided=decisions,
            sources=outcomes,
            ingest=ingest_json,
            k=k,
            exact=exact,
            community_min_score=community_min_score,
            now=now,
            stage=say,
            warnings=warnings + _orphan_warnings(detector, sources),
            timings=timings,
        )
        say("writing the report")
        t = time.perf_counter()
        folder = write_report(report, out)
        log.info("report written in %.1f s", time.perf_counter() - t)
        return RunResult(report, folder)
    raise AssertionError("unreachable")  # pragma: no cover  (ExitStack does not swallow)


def _orphan_warnings(detector: Detector, sources: Sequence[SourceSpec]) -> list[str]:
    names = {s.name for s in sources}
    orphans = sorted(set(detector.index.frame["origin"].astype(str)) - names)
    if not orphans:
        return []
    return [
        "the index holds records of source(s) not in the sources file, kept as they are: "
        + ", ".join(orphans)
    ]
