"""The nightly overlap report: every department, what is new since last run, clusters, people.

    from dedupe.report import load_sources, run_report
    result = run_report("indexes/gc", load_sources("sources.toml"), "reports/")

Modules: `sources` (sources.toml, reading each source), `run` (the nightly job: lock, ingest,
build, write), `build` (the report as data), `history` (previous run, statuses, stable ids),
`carry` (the previous run's pairs tonight: re-scored when the neighbour search missed them;
resolved, dismissed or no longer flagged), `groups` (clusters, communities, labels), `render`
(HTML), `output` (the dated folder and the `latest` link).
"""

from dedupe.report.build import build_report
from dedupe.report.model import Cluster, Community, Headline, PairRow, Report, pair_id
from dedupe.report.run import RunResult, report_lock, run_report
from dedupe.report.sources import SourceOutcome, SourceSpec, load_sources, read_sources

__all__ = [
    "Cluster",
    "Community",
    "Headline",
    "PairRow",
    "Report",
    "RunResult",
    "SourceOutcome",
    "SourceSpec",
    "build_report",
    "load_sources",
    "pair_id",
    "read_sources",
    "report_lock",
    "run_report",
]
