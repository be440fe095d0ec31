"""`dedupe ingest`: files → validated records → embeddings → index."""

from __future__ import annotations

import glob
from pathlib import Path

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
from dedupe.detector import Detector
from dedupe.errors import IngestError


def expand(paths: list[str]) -> list[str]:
    """Expand globs the shell did not (quoted patterns, cron), keeping order, no duplicates."""
    out: list[str] = []
    for p in paths:
        matches = sorted(glob.glob(p)) if any(ch in p for ch in "*?[") else [p]
        if not matches:
            raise IngestError(f"{p}: no file matches this pattern")
        for m in matches:
            if m not in out:
                out.append(m)
    return out


@app.command()
@handle_errors
def ingest(
    files: list[str] = typer.Argument(
        ...,
        help="CSV, XLSX, Parquet, JSON or JSON Lines files (globs allowed).",
    ),
    index: Path = typer.Option(
        Path(DEFAULT_INDEX),
        "--index",
        "-i",
        help="Index directory to create or update.",
        envvar="DEDUPE_INDEX",
    ),
    mapping: Path | None = typer.Option(
        None, "--mapping", "-m", help="TOML mapping of source columns to canonical fields."
    ),
    format: str | None = typer.Option(
        None, "--format", help="Force the file format: csv, xlsx, parquet, json, jsonl."
    ),
    source: str | None = typer.Option(
        None,
        "--source",
        help=(
            "Name of this source (default: each file's name). "
            "Re-ingesting a source replaces its records."
        ),
    ),
    encoder: str | None = typer.Option(
        None,
        "--encoder",
        "-e",
        help=(
            "use (default), minilm, minilm-int8, or st:<model folder>. "
            "Default for an existing index: the one that built it."
        ),
    ),
    rebuild: bool = typer.Option(
        False,
        "--rebuild",
        help="Start a fresh index (another encoder, or a corrupt index or manifest).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Read portfolio files into an index: validate, quarantine bad rows, embed what changed.

    Rows that cannot be indexed (no department, no title or description, a malformed e-mail, a
    date or amount that is not one or could be read two ways, an unknown language, a duplicate
    id, undecodable bytes) go to quarantine-*.csv in the index directory with the file, row and
    reason; so does a cell over 1,000,000 characters. Rows in = rows indexed + rows
    quarantined. A file without the columns a record needs is refused (exit 1) and nothing is
    written; so is a file named like a source read from another folder (exit 2: give --source).

    Example:

        dedupe ingest exports/*.csv exports/finance.xlsx --mapping mappings.toml --index indexes/gc
    """
    paths = expand(files)
    with progress_bar("embedding", enabled=not quiet and not json_out) as (advance, set_total):
        summary = Detector.ingest(
            index,
            paths,
            mapping=mapping,
            encoder=encoder,
            format=format,
            source=source,
            rebuild=rebuild,
            progress=advance,
            on_total=set_total,
        )
    if json_out:
        print_json(summary.to_json())
        return
    err.print(
        f"[bold]{summary.rows_in}[/] rows in: [green]{summary.indexed} indexed[/], "
        f"[{'yellow' if summary.quarantined else 'green'}]{summary.quarantined} quarantined[/]"
    )
    err.print(
        f"index {escape(summary.index_path)}: {summary.added} added, {summary.updated} updated, "
        f"{summary.removed} removed, {summary.unchanged} unchanged; "
        f"{summary.embedded} texts and {summary.sentences_embedded} sentences embedded"
    )
    if summary.quarantine_path:
        err.print(f"quarantined rows and reasons: {escape(summary.quarantine_path)}")
    for note in summary.notes:
        err.print(f"[yellow]note:[/] {escape(note)}")
    if summary.rows_in == 0:
        kept = "" if rebuild else ", and the index keeps the records it had"
        err.print(f"[yellow]warning:[/] no rows read (an empty export?): nothing was added{kept}")
