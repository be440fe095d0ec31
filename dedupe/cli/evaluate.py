"""`dedupe evaluate`: measure detection quality on labelled pairs and intake queries."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from dedupe.cli.common import app, err, handle_errors, out, print_json, progress_bar
from dedupe.errors import UsageError


@app.command()
@handle_errors
def evaluate(
    portfolio: Path = typer.Option(
        ...,
        "--portfolio",
        "-p",
        help="Portfolio file with canonical columns (id, title, description, department, ...).",
    ),
    pairs: Path | None = typer.Option(
        None,
        "--pairs",
        help=(
            "Labelled pairs: id_a, id_b, label (duplicate, overlap, not related; or 1/0), "
            "or inline text_a/text_b (+ title_a/b, dept_a/b, lang_a/b). Optional pair_type: "
            "figures per type."
        ),
    ),
    queries: Path | None = typer.Option(
        None,
        "--queries",
        help=(
            "Intake queries: query_id, title, description, department, language, "
            "expected_ids, expected_owner_emails (lists separated by ; | or ,; no expected id "
            "= a new proposal). Optional kind: figures per kind."
        ),
    ),
    encoder: str | None = typer.Option(
        None, "--encoder", "-e", help="use (default), minilm, minilm-int8, or st:<model folder>."
    ),
    index_dir: Path | None = typer.Option(
        None,
        "--index-dir",
        help="Keep the evaluation index here (re-runs embed only what changed).",
    ),
    scores_out: Path | None = typer.Option(
        None, "--scores-out", help="Also write pairs.csv and queries.csv with every score here."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
    with_details: bool = typer.Option(
        False,
        "--details",
        help="With --json: add a 'details' key (per pair type, per query kind, English/French "
        "recall). The table output always shows them.",
    ),
) -> None:
    """Score labelled pairs and intake queries through the same path as `check`.

    Pairs: average precision, and precision/recall/F1 at the tool's own flag threshold.
    Queries: recall@5 (expected ids in the top 5, capped at 5 expected), owner hit rate, and the
    false-flag rate on genuinely new proposals (empty expected_ids).
    Then, per pair_type and per query kind (when the files have those columns), and for
    English/French pairs and queries: recall at the threshold and how many negatives are flagged.

    Example:

        dedupe evaluate --portfolio portfolio.csv --pairs pairs.csv --queries queries.csv --json
    """
    if pairs is None and queries is None:
        raise UsageError("give --pairs and/or --queries to evaluate")
    from dedupe.evaluate import evaluate as run_evaluation  # scikit-learn: only when evaluating

    with progress_bar("evaluating", enabled=not json_out) as (advance, _total):
        result = run_evaluation(
            portfolio=portfolio,
            pairs=pairs,
            queries=queries,
            encoder=encoder,
            index_dir=index_dir,
            scores_out=scores_out,
            progress=advance,
        )
    for note in result.notes:
        err.print(f"[yellow]note:[/] {escape(note)}")
    if json_out:
        print_json(result.to_json(with_details=with_details))
        return
    table = Table(title="Evaluation")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for section, data in result.to_json().items():
        if not data:
            continue
        for key, value in data.items():
            table.add_row(f"{section}.{key}", f"{value}")
    details = result.details
    if details is not None:
        cross = details.cross_language
        if cross.pairs_n:
            table.add_row(
                "pairs.english_french_recall", f"{cross.pairs_recall} (n={cross.pairs_n})"
            )
        if cross.queries_n:
            table.add_row(
                "queries.english_french_recall", f"{cross.queries_recall} (n={cross.queries_n})"
            )
    out.print(table)
    if details is None:
        return
    for title, groups in (
        ("Pairs by pair_type (at the flag threshold)", details.pairs_by_type),
        ("Queries by kind (at the flag threshold)", details.queries_by_kind),
    ):
        if not groups:
            continue
        rows = [asdict(g) for g in groups]
        sub = Table(title=title)
        for key in rows[0]:
            if key == "group":
                sub.add_column(key, overflow="fold")  # long type names wrap, never cut
            else:
                sub.add_column(key.replace("_", " "), justify="right", overflow="fold")
        for row in rows:
            sub.add_row(*("-" if v is None else str(v) for v in row.values()))
        out.print(sub)
