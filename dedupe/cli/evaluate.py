"""`dedupe evaluate`: measure detection quality on labelled pairs and intake queries."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dedupe.cli.common import app, handle_errors, out, print_json, progress_bar
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
            "Labelled pairs: id_a, id_b, label (duplicate/overlap/unrelated or 1/0), "
            "or inline text_a/text_b."
        ),
    ),
    queries: Path | None = typer.Option(
        None,
        "--queries",
        help=(
            "Intake queries: query_id, title, description, department, language, "
            "expected_ids, expected_owner_emails."
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
) -> None:
    """Score labelled pairs and intake queries through the same path as `check`.

    Pairs: average precision, and precision/recall/F1 at the tool's own flag threshold.
    Queries: recall@5 (expected ids in the top 5, capped at 5 expected), owner hit rate, and the
    false-flag rate on genuinely new proposals (empty expected_ids).

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
    if json_out:
        print_json(result.to_json())
        return
    table = Table(title="Evaluation")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for section, data in result.to_json().items():
        if not data:
            continue
        for key, value in data.items():
            table.add_row(f"{section}.{key}", f"{value}")
    out.print(table)
