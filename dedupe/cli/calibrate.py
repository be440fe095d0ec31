"""`dedupe calibrate`: refit an index's scorer from labelled pairs or the review decisions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer

from dedupe.cli.common import DEFAULT_INDEX, app, handle_errors, out, print_json
from dedupe.errors import UsageError

INDEX_OPT = typer.Option(
    Path(DEFAULT_INDEX), "--index", "-i", help="Index directory.", envvar="DEDUPE_INDEX"
)
PAIRS_OPT = typer.Option(
    None,
    "--pairs",
    help="CSV with id_a, id_b, label (duplicate, overlap, not related; or 1/0, yes/no).",
)
DB_OPT = typer.Option(
    None, "--db", help="Review database URL: use the reviewers' decisions.", envvar="DEDUPE_DB_URL"
)
JSON_OPT = typer.Option(False, "--json", help="Print the new scorer as JSON.")


@app.command()
@handle_errors
def calibrate(
    index: Path = INDEX_OPT,
    pairs: Path | None = PAIRS_OPT,
    db: str | None = DB_OPT,
    json_out: bool = JSON_OPT,
) -> None:
    """Refit the pair scorer of an index from labelled pairs; saved in the index, versioned.

    Below 200 labelled pairs only the probability scale and the flag threshold are refitted (the
    ranking is kept); from 200 on, every weight is.

    Examples:

        dedupe calibrate --index indexes/gc --pairs reviewed.csv

        dedupe calibrate --index indexes/gc --db sqlite:///indexes/gc/review.db
    """
    from dedupe.calibrate import LabelledPair, read_labelled_pairs
    from dedupe.calibrate import calibrate as run_calibration  # scikit-learn: only here

    if (pairs is None) == (db is None):
        raise UsageError("give exactly one of --pairs FILE or --db URL")
    if pairs is not None:
        labelled: Sequence[LabelledPair] = read_labelled_pairs(pairs)
        source = str(pairs)
    else:
        from dedupe.detector import Detector
        from dedupe.review.known import labelled_pairs

        # Decisions count only while both texts are as the reviewer saw them.
        labelled = list(labelled_pairs(Detector.open(index), db_url=db))
        source = "review decisions"
    result = run_calibration(index, labelled, source=source)
    if json_out:
        print_json(
            {
                "version": result.params.version,
                "previous_version": result.previous_version,
                "mode": result.mode,
                "n_positive": result.n_positive,
                "n_negative": result.n_negative,
                "skipped": result.skipped,
                "scorer": result.params.to_dict(),
            }
        )
        return
    p = result.params
    out.print(
        f"scorer {p.version} ({result.mode} refit on {result.n_positive} positive / "
        f"{result.n_negative} negative pairs; {result.skipped} skipped: an id not in the "
        f"index) replaces {result.previous_version}: overlap at {p.overlap_at:.3f}, "
        f"duplicate at {p.duplicate_at:.3f}"
    )
