"""`dedupe check`: is this proposal already being built somewhere? Whom to call."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dedupe.cli.common import (
    DEFAULT_INDEX,
    app,
    err,
    escape,
    handle_errors,
    out,
    print_json,
)
from dedupe.detector import Detector
from dedupe.errors import UsageError
from dedupe.proposals import proposal_from_fields, read_proposal
from dedupe.records import CheckResult, Tier

REVIEW_DB = "review.db"  # dedupe.review.store.DB_NAME (not imported: start-up time)
TIER_STYLE = {Tier.DUPLICATE: "bold red", Tier.OVERLAP: "yellow", Tier.BELOW: "dim"}


@app.command()
@handle_errors
def check(
    index: Path = typer.Option(
        Path(DEFAULT_INDEX),
        "--index",
        "-i",
        help="Index directory built by `dedupe ingest`.",
        envvar="DEDUPE_INDEX",
    ),
    title: str | None = typer.Option(None, "--title", "-t", help="Proposal title."),
    description: str | None = typer.Option(
        None, "--description", "-d", help="Proposal description."
    ),
    department: str | None = typer.Option(
        None, "--department", help="Proposing department (same-department matches are marked)."
    ),
    language: str | None = typer.Option(
        None, "--language", help="en or fr (detected when absent)."
    ),
    file: Path | None = typer.Option(
        None,
        "--file",
        "-f",
        help="Proposal file: JSON {title, description, department} or text (first line = title).",
    ),
    limit: int = typer.Option(
        10, "--limit", "-n", min=1, max=200, help="At most this many matches."
    ),
    show_all: bool = typer.Option(
        False, "--all", help="Also list the best candidates below the bar."
    ),
    json_out: bool = typer.Option(
        False, "--json", help="Print one JSON object: {matches, owners} (+ below with --all)."
    ),
    db: str | None = typer.Option(
        None,
        "--db",
        envvar="DEDUPE_DB_URL",
        help=(
            "Review database whose decisions are shown next to matches "
            "(default: <index>/review.db when it exists)."
        ),
    ),
) -> None:
    """Check a proposal against the portfolio: likely duplicates and overlaps, and whom to call.

    Exit code 0 when nothing is flagged, 3 when at least one duplicate or overlap is found (so an
    intake workflow can gate on it), 1 on bad input or a data error, 2 on a usage error.

    Example:

        dedupe check --index indexes/gc --title "Online booking for biometrics appointments"
        --description "..." --department "Immigration"

        dedupe check --index indexes/gc --file proposal.json --json
    """
    if file is not None and (title or description):
        raise UsageError("give either --file or --title/--description, not both")
    proposal = (
        read_proposal(file)
        if file is not None
        else proposal_from_fields(title, description, department, language)
    )
    if file is not None and department:
        from dataclasses import replace

        proposal = replace(proposal, department=department)
    detector = Detector.open(index)
    decided: dict[tuple[str, str], str] = {}
    if db is not None or (index / REVIEW_DB).exists():
        # SQLAlchemy + Alembic (~0.7 s to import): only when there are decisions to read.
        from dedupe.review.known import known_decisions

        decided = known_decisions(detector, db_url=db)
    # The table names the closest candidate when nothing is flagged (a near miss is worth a
    # look); the JSON object lists the matches only (`--all` lists the candidates in the table).
    result = detector.check(
        proposal,
        limit=limit,
        include_below=show_all,
        closest_when_clear=not json_out,
        decisions=decided,
    )
    known, close = detector.department_matches(proposal.department)
    if not known:
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        err.print(
            f"[yellow]warning:[/] department {escape(repr(proposal.department))} is not in the "
            f"index, so no match can be marked as the proposer's own{escape(hint)}"
        )
    if note := detector.small_portfolio_note():
        err.print(f"[yellow]note:[/] {escape(note)}")
    if len(detector.index) == 0:
        err.print(
            f"[yellow]warning:[/] {escape(str(index))} holds no initiatives: nothing to compare "
            "with (was every row quarantined?)"
        )
    if json_out:  # a closed pipe (`| head`) keeps the exit code: see `print_json`, `out`
        print_json(result.to_json(below=show_all))
    else:
        render(result, show_all)
    raise typer.Exit(result.exit_code)


def render(result: CheckResult, show_all: bool) -> None:
    p = result.proposal
    err.print(
        f"[bold]Proposal:[/] {escape(p.title or p.description[:80])}"
        + (f" [dim]({escape(p.department)})[/]" if p.department else "")
    )
    rows = list(result.matches) + (list(result.below) if show_all else [])
    if not rows:
        out.print("[green]No existing initiative looks like a duplicate or overlap.[/]")
        if result.below:
            m = result.below[0]
            out.print(
                f"[dim]Closest, below the bar (not flagged):[/] {escape(m.title)} "
                f"[dim]({escape(m.department)}, {m.id})[/], score {m.score:.2f}. "
                "[dim]`--all` lists the best candidates below the bar.[/]"
            )
        return
    table = Table(title="Likely duplicates and overlaps", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("tier")
    table.add_column("score", justify="right")
    table.add_column("initiative")
    table.add_column("department")
    table.add_column("why")
    for n, m in enumerate(rows, start=1):
        dept = escape(m.department) + (" [dim](same dept)[/]" if m.same_department else "")
        why = escape(m.reason.summary())
        if m.decision:
            why += f"\n[cyan]decided: {escape(m.decision)}[/]"
        table.add_row(
            str(n),
            f"[{TIER_STYLE[m.tier]}]{m.tier.value}[/]",
            f"{m.score:.2f}",
            f"{escape(m.title)}\n[dim]{escape(m.id)}[/]",
            dept,
            why,
        )
    out.print(table)
    if result.owners:
        owners = Table(title="Whom to contact")
        owners.add_column("owner")
        owners.add_column("e-mail")
        owners.add_column("department")
        owners.add_column("their matching initiatives")
        for o in result.owners:
            name = (
                escape(o.name)
                if o.name
                else "[dim](no name on record)[/]"
                if o.email
                else "[dim]no owner on record: ask the department[/]"
            )
            owners.add_row(
                name, escape(o.email), escape(o.department), escape(", ".join(o.initiatives))
            )
        out.print(owners)
