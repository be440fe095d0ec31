from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import row
from typer.testing import CliRunner

from dedupe.cli import app
from dedupe.evaluate import evaluate

EMAIL = "Consolidate departmental email systems onto one shared email platform for all staff."


def _files(tmp_path: Path, write_csv) -> tuple[Path, Path, Path]:
    portfolio = write_csv(
        [
            row(
                1,
                title="Email Transformation Initiative",
                description=EMAIL,
                department="SSC",
                owner_email="sam@ssc.gc.ca",
            ),
            row(2, title="Email Transformation Initiative", description=EMAIL, department="CBSA"),
            row(
                3,
                title="Fishing vessel inspection",
                description="Inspect vessels at sea.",
                department="DFO",
            ),
            row(
                4,
                title="Payroll modernization",
                description="Replace payroll for staff.",
                department="PSPC",
            ),
        ],
        "portfolio.csv",
    )
    pairs = write_csv(
        [
            {"id_a": "r1", "id_b": "r2", "label": "duplicate"},
            {"id_a": "r1", "id_b": "r3", "label": "unrelated"},
            {"id_a": "r3", "id_b": "r4", "label": "0"},
        ],
        "pairs.csv",
    )
    queries = write_csv(
        [
            {
                "query_id": "q1",
                "title": "Email Transformation Initiative",
                "description": EMAIL,
                "department": "PSPC",
                "language": "en",
                "expected_ids": "r1;r2",
                "expected_owner_emails": "sam@ssc.gc.ca",
            },
            {
                "query_id": "q2",
                "title": "Lunar rover telemetry",
                "description": "Telemetry for a moon rover.",
                "department": "CSA",
                "language": "en",
                "expected_ids": "",
                "expected_owner_emails": "",
            },
        ],
        "queries.csv",
    )
    return portfolio, pairs, queries


def test_evaluate_figures_and_scores_out(tmp_path: Path, write_csv) -> None:
    portfolio, pairs, queries = _files(tmp_path, write_csv)
    result = evaluate(
        portfolio=portfolio,
        pairs=pairs,
        queries=queries,
        encoder="fake",
        scores_out=tmp_path / "scores",
    )
    assert result.pairs is not None and result.queries is not None
    assert result.pairs.n == 3 and result.pairs.average_precision == 1.0
    assert result.queries.recall_at_5 == 1.0 and result.queries.owner_hit_rate == 1.0
    assert result.queries.false_flag_rate == 0.0
    scored = pd.read_csv(tmp_path / "scores" / "pairs.csv")
    assert list(scored.columns[:5]) == ["id_a", "id_b", "label", "score", "flagged"]
    q = pd.read_csv(tmp_path / "scores" / "queries.csv")
    assert list(q.columns) == ["query_id", "rank", "id", "score", "tier"]


def test_evaluate_json_shape_is_exact(tmp_path: Path, write_csv) -> None:
    portfolio, pairs, queries = _files(tmp_path, write_csv)
    res = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--portfolio",
            str(portfolio),
            "--pairs",
            str(pairs),
            "--queries",
            str(queries),
            "--encoder",
            "fake",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data) == {"pairs", "queries"}
    assert set(data["pairs"]) == {
        "n",
        "average_precision",
        "precision",
        "recall",
        "f1",
        "threshold",
    }
    assert set(data["queries"]) == {"n", "recall_at_5", "owner_hit_rate", "false_flag_rate"}
    # a portfolio this small is cautioned about on stderr, never in the JSON
    assert "with so few, the few words a proposal shares with a record weigh more" in res.stderr


def test_inline_text_pairs_like_gov_pairs(tmp_path: Path, write_csv) -> None:
    portfolio, _, _ = _files(tmp_path, write_csv)
    pairs = write_csv(
        [
            {
                "pair_id": "p1",
                "label": "1",
                "title_a": "Email",
                "title_b": "Email",
                "text_a": EMAIL,
                "text_b": EMAIL,
                "dept_a": "A",
                "dept_b": "B",
            },
            {
                "pair_id": "p2",
                "label": "0",
                "title_a": "Fish",
                "title_b": "Pay",
                "text_a": "Inspect fish.",
                "text_b": "Replace payroll.",
                "dept_a": "A",
                "dept_b": "B",
            },
        ],
        "inline.csv",
    )
    result = evaluate(portfolio=portfolio, pairs=pairs, encoder="fake")
    assert result.pairs is not None and result.pairs.average_precision == 1.0


def test_details_per_pair_type_and_query_kind_keep_the_plain_json_exact(
    tmp_path: Path, write_csv
) -> None:
    portfolio, _, _ = _files(tmp_path, write_csv)
    pairs = write_csv(
        [
            {"id_a": "r1", "id_b": "r2", "label": "duplicate", "pair_type": "same"},
            {"id_a": "r1", "id_b": "r3", "label": "unrelated", "pair_type": "sdp"},
            {"id_a": "r3", "id_b": "r4", "label": "0", "pair_type": "sdp"},
        ],
        "typed_pairs.csv",
    )
    queries = write_csv(
        [
            {
                "query_id": "q1",
                "title": "Email Transformation Initiative",
                "description": EMAIL,
                "language": "en",
                "expected_ids": "r1;r2",
                "kind": "dup",
            },
            {
                "query_id": "q2",
                "title": "Initiative de transformation du courriel",
                "description": "Regrouper les systèmes de courriel des ministères.",
                "language": "fr",
                "expected_ids": "r1",
                "kind": "dup_fr",
            },
            {
                "query_id": "q3",
                "title": "Lunar rover telemetry",
                "description": "Telemetry for a moon rover.",
                "language": "en",
                "expected_ids": "",
                "kind": "new",
            },
        ],
        "kinds.csv",
    )
    result = evaluate(portfolio=portfolio, pairs=pairs, queries=queries, encoder="fake")
    assert result.details is not None
    by_type = {g.group: g for g in result.details.pairs_by_type}
    assert set(by_type) == {"same", "sdp"}
    assert by_type["sdp"].n == 2 and by_type["sdp"].positives == 0
    assert by_type["sdp"].recall is None and by_type["sdp"].flagged_negatives is not None
    assert by_type["same"].recall == 1.0  # identical texts in two departments
    by_kind = {g.group: g for g in result.details.queries_by_kind}
    assert set(by_kind) == {"dup", "dup_fr", "new"}
    assert by_kind["new"].recall_at_5 is None and by_kind["new"].flagged_new is not None
    assert by_kind["dup"].recall_at_5 == 1.0
    cross = result.details.cross_language
    assert cross.queries_n == 1  # the French query against English records
    assert cross.pairs_n == 0  # every pair is English
    assert set(result.to_json()) == {"pairs", "queries"}  # the interface stays exact
    assert set(result.to_json(with_details=True)) == {"pairs", "queries", "details"}
    res = CliRunner().invoke(
        app,
        [
            "evaluate",
            "-p",
            str(portfolio),
            "--pairs",
            str(pairs),
            "--queries",
            str(queries),
            "-e",
            "fake",
            "--json",
            "--details",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [g["group"] for g in data["details"]["pairs_by_type"]] == ["same", "sdp"]
    table = CliRunner().invoke(
        app, ["evaluate", "-p", str(portfolio), "--queries", str(queries), "-e", "fake"]
    )
    assert table.exit_code == 0 and "Queries by kind" in table.stdout


def test_an_expected_id_missing_from_the_portfolio_is_named_with_row_and_column(
    tmp_path: Path, write_csv
) -> None:
    portfolio, _, _ = _files(tmp_path, write_csv)
    queries = write_csv(
        [
            {"query_id": "q1", "title": "Email", "description": EMAIL, "expected_ids": "r1"},
            {"query_id": "q2", "title": "Email", "description": EMAIL, "expected_ids": "r2;r9"},
        ],
        "typo.csv",
    )
    res = CliRunner().invoke(
        app, ["evaluate", "-p", str(portfolio), "--queries", str(queries), "-e", "fake"]
    )
    assert res.exit_code != 0
    message = " ".join(res.output.split())
    assert "typo.csv row 3, column expected_ids: 'r9' is not an id of the portfolio" in message


@pytest.mark.parametrize("sep", [";", "|", ", "])
def test_expected_id_lists_may_use_semicolons_pipes_or_commas(sep: str) -> None:
    from dedupe.evaluate import _split

    assert _split(f"r1{sep}r2{sep}") == ["r1", "r2"]
    assert _split(f"a@x.gc.ca{sep}b@y.gc.ca") == ["a@x.gc.ca", "b@y.gc.ca"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("duplicate", 1),
        ("Overlap", 1),
        ("partial-overlap", 1),
        ("1.0", 1),
        ("Not Related", 0),
        ("not-related", 0),
        ("not_related", 0),
        ("unrelated", 0),
        ("different", 0),
        ("0", 0),
        ("maybe", None),
        ("related", None),  # too vague to count either way
    ],
)
def test_labels_in_their_usual_spellings(value: str, expected: int | None) -> None:
    from dedupe.evaluate import label_value

    assert label_value(value) == expected
