"""`dedupe report`: the nightly job — re-ingest every source, find overlaps, write the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dedupe.cli.common import (
    DEFAULT_INDEX,
    app,
    err,
    escape,
    handle_errors,
    print_json,
    progress_bar,
)

IndexOpt = Annotated[
    Path,
    typer.Option(
        "--index", "-i", help="Index directory (created on the first run).", envvar="DEDUPE_INDEX"
    ),
]
SourcesOpt = Annotated[
    Path,
    typer.Option(
        "--sources", "-s", help="sources.toml: a \\[\\[source]] table per department export."
    ),
]
OutOpt = Annotated[
    Path,
    typer.Option("--out", "-o", help="Reports folder: a dated folder per run and a `latest` link."),
]
EncoderOpt = Annotated[
    str | None,
    typer.Option(
        "--encoder",
        "-e",
        help="Encoder for a new index: use (default), minilm, minilm-int8, st:<folder>. "
        "An existing index keeps its own (leave this out; another one is refused by name).",
    ),
]
KOpt = Annotated[
    int, typer.Option("--k", min=1, max=100, help="Nearest neighbours searched per initiative.")
]
ExactOpt = Annotated[
    bool,
    typer.Option(
        "--exact",
        help="Exact nearest-neighbour lists at any size (from 10k initiatives the default search "
        "is clustered: ~3x faster, ~99% of the exact run's flagged pairs).",
    ),
]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        help="Seconds to wait for another report run on this index (default: fail at once).",
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="DEDUPE_DB_URL",
        help="Review database whose decided pairs are never reported as new "
        "(default: <index>/review.db when it exists).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print summary.json (+ folder) to stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]


@app.command()
@handle_errors
def report(
    sources: SourcesOpt,
    index: IndexOpt = Path(DEFAULT_INDEX),
    out: OutOpt = Path("reports"),
    encoder: EncoderOpt = None,
    k: KOpt = 10,
    exact: ExactOpt = False,
    wait: WaitOpt = 0.0,
    db: DbOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Re-ingest every source in sources.toml, find overlaps across the whole portfolio, compare
    with the previous run and write OUT/<YYYY-MM-DDTHHMMSS>/ (report.html; pairs, clusters,
    communities as CSV + Parquet; summary.json), then point OUT/latest at it.

    Unchanged records are not re-embedded. A source that cannot be read is reported and its
    previous records are kept.

    Exit codes: 0 report written, every source read; 4 report written but at least one source
    failed (see summary.json "sources"); 1 no report (bad sources file, index error, another run
    holds the index); 2 usage error.

    Example:

        dedupe report --index indexes/gc --sources sources.toml --out reports/
    """
    # Imported here, not at the top: `dedupe check` must not pay for networkx and SQLAlchemy.
    from dedupe.report import load_sources, run_report
    from dedupe.review.known import known_decisions

    specs = load_sources(sources)
    show = not quiet and not json_out

    def stage(text: str) -> None:
        if not quiet:
            err.print(f"[dim]·[/] {escape(text)}")

    with progress_bar("embedding", enabled=show) as (advance, set_total):
        result = run_report(
            index,
            specs,
            out,
            encoder=encoder,
            decided=lambda detector: known_decisions(detector, db_url=db),
            k=k,
            exact=exact,
            lock_timeout=wait,
            stage=stage,
            progress=advance,
            on_total=set_total,
        )
    rep, h = result.report, result.report.headline
    if json_out:
        print_json(rep.summary_json() | {"folder": str(result.folder)})
    if not quiet:
        for s in rep.failed_sources:
            err.print(
                f"[bold red]source {escape(s.name)} failed:[/] {escape(s.reason)} "
                "(its previous records are kept)"
            )
        err.print(
            f"[bold]{h.initiatives}[/] initiatives in {h.departments} departments: "
            f"[bold]{h.pairs_flagged}[/] cross-department pairs ([yellow]{h.new} new[/], "
            f"{h.resolved} resolved"
            + (f", {h.newly_dismissed} dismissed by a reviewer" if h.newly_dismissed else "")
            + (f", {h.no_longer_flagged} no longer flagged" if h.no_longer_flagged else "")
            + f"), {h.clusters} clusters, {h.communities} communities"
        )
        err.print(f"report: {escape(str(result.folder / 'report.html'))}")
    if result.exit_code:
        raise typer.Exit(result.exit_code)  # 4: written, but a source failed
