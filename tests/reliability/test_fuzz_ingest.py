"""Fuzzed input: whatever the table, ingest never crashes and never loses a row."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe.csvsafe import neutralize_cell, write_csv
from dedupe.errors import DedupeError
from dedupe.ingest import load_files, write_quarantine
from dedupe.records import RowProblem

COLUMNS = [
    "id",
    "title",
    "description",
    "department",
    "owner_email",
    "start_date",
    "budget",
    "Project Name",
    "Summary",
    "",
    "x",
]
cells = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(
        [
            "",
            " ",
            "=cmd|' /C calc'!A0",
            "+1",
            "-2",
            "@SUM(A1)",
            "a@b.ca",
            "not@",
            "2022-13-45",
            "July 31, 2022",
            "FY2023",
            "1e309",
            "NaN",
            "\x00\x07",
            "<script>alert(1)</script>",
            "x" * 5000,
            "Système",
            "\u202e\ufeff",
        ]
    ),
    st.integers().map(str),
    st.floats(allow_nan=True).map(str),
)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=7))
    rows = draw(
        st.lists(st.lists(cells, min_size=len(header), max_size=len(header) + 2), max_size=12)
    )
    return header, rows


def _write(path: Path, header: list[str], rows: list[list[str]], kind: str) -> int:
    """Write the table; return how many data rows a reader should see."""
    if kind.startswith("csv"):
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(header)
        w.writerows(rows)
        text = buf.getvalue()
        encoding = {
            "csv-utf8": "utf-8",
            "csv-bom": "utf-8-sig",
            "csv-utf16": "utf-16",
            "csv-cp1252": "cp1252",
        }[kind]
        path.write_bytes(
            text.encode(encoding, errors="replace" if encoding == "cp1252" else "surrogatepass")
        )
        # csv.reader sees as many records as were written (blank records included)
        return len(rows)
    records = [dict(zip(header, r, strict=False)) for r in rows]
    if kind == "json":
        path.write_text(json.dumps(records))
    else:
        path.write_text("\n".join(json.dumps(r) for r in records))
    return len(records)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    table=tables(),
    kind=st.sampled_from(["csv-utf8", "csv-bom", "csv-utf16", "csv-cp1252", "json", "jsonl"]),
)
def test_rows_in_equals_indexed_plus_quarantined(tmp_path: Path, table, kind: str) -> None:
    header, rows = table
    suffix = ".csv" if kind.startswith("csv") else f".{kind}"
    path = tmp_path / f"fuzz{suffix}"
    expected_rows = _write(path, header, rows, kind)
    try:
        result = load_files([path])
    except DedupeError as exc:
        assert str(path) in str(exc)  # a clear error naming the file
        return
    assert result.rows_in == len(result.records) + len(result.problems)
    if not (kind.startswith("csv") and expected_rows == 0):
        assert result.rows_in == expected_rows
    for p in result.problems:
        assert p.reason and p.file
    if result.problems:
        qpath = write_quarantine(result.problems, tmp_path)
        assert qpath is not None
        with open(qpath, newline="", encoding="utf-8") as fh:
            assert sum(1 for _ in csv.reader(fh)) - 1 == len(result.problems)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=tables())
def test_xlsx_fuzz(tmp_path: Path, table) -> None:
    header, rows = table
    frame = pd.DataFrame([r[: len(header)] for r in rows], columns=[f"{h}" for h in header])
    path = tmp_path / "fuzz.xlsx"
    try:
        frame.to_excel(path, index=False)
    except Exception:  # noqa: BLE001 - openpyxl refuses some control characters: not our input then
        return
    try:
        result = load_files([path])
    except DedupeError as exc:
        assert "fuzz.xlsx" in str(exc)
        return

    # A spreadsheet has no trailing blank rows: wholly empty rows after the last
    # filled one are not in the file at all, so they are not rows in. openpyxl writes a string
    # such as "=0" as a formula with no computed value (Excel would store one): such a cell is
    # empty in the file pandas wrote.
    def written(c: object) -> bool:
        return c not in ("", None) and not (isinstance(c, str) and len(c) > 1 and c[0] == "=")

    filled = [i for i, r in enumerate(rows) if any(written(c) for c in r[: len(header)])]
    expected = filled[-1] + 1 if filled else 0
    assert result.rows_in == len(result.records) + len(result.problems) == expected


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "+SUM(1)", "-1+2", "@A1", "\t=1"])
def test_exported_csv_neutralises_formula_cells(tmp_path: Path, value: str) -> None:
    assert str(neutralize_cell(value)).startswith("'")
    out = write_csv(pd.DataFrame({"title": [value], "n": [1]}), tmp_path / "x.csv")
    cell = pd.read_csv(out, dtype=str)["title"][0]
    assert cell == "'" + value


def test_quarantine_file_neutralises_formulas(tmp_path: Path) -> None:
    problem = RowProblem("f.csv", 2, "department", "no department", {"title": '=HYPERLINK("x")'})
    qpath = write_quarantine([problem], tmp_path)
    assert qpath is not None
    assert pd.read_csv(qpath, dtype=str)["title"][0].startswith("'=")
