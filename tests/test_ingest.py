from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import row

from dedupe.errors import ConfigError, IngestError, MappingError
from dedupe.ingest import load_files, load_mapping
from dedupe.ingest.mapping import infer_mapping, mapping_from_dict
from dedupe.ingest.readers import decode_bytes, read_table
from dedupe.ingest.values import parse_budget, parse_owners
from dedupe.match.owners import owners_of
from dedupe.records import Owner


def test_reads_every_format(tmp_path: Path) -> None:
    rows = [row(i) for i in range(3)]
    frame = pd.DataFrame(rows)
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_excel(tmp_path / "a.xlsx", index=False)
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    (tmp_path / "a.json").write_text(json.dumps(rows))
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    for name in ("a.csv", "a.xlsx", "a.parquet", "a.json", "a.jsonl"):
        result = load_files([tmp_path / name])
        assert [r.id for r in result.records] == ["r0", "r1", "r2"], name
        assert result.records[0].owner_email == "owner0@example.gc.ca"


def test_mapping_renames_and_joins_columns(tmp_path: Path, write_csv) -> None:
    path = write_csv(
        [
            {
                "Project Name": "Cloud email",
                "Summary": "Move mail.",
                "Objectives": "Save money.",
                "Dept": "SSC",
                "Contact": "a@b.ca",
            }
        ]
    )
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[columns]\ntitle = "Project Name"\ndescription = ["Summary", "Objectives"]\n'
        'department = "Dept"\nowner_email = "Contact"\n'
    )
    rec = load_files([path], mapping=mapping).records[0]
    assert rec.title == "Cloud email"
    assert rec.description == "Move mail. Save money."
    assert rec.department == "SSC" and rec.owner_email == "a@b.ca"
    assert rec.id.startswith("gen-")  # stable id from source and content
    again = load_files([path], mapping=mapping).records[0]
    assert again.id == rec.id


def test_mapping_defaults_fill_missing_fields(write_csv) -> None:
    path = write_csv([{"name": "Payroll", "summary": "Pay people."}])
    m = mapping_from_dict(
        {
            "columns": {"title": "name", "description": "summary"},
            "defaults": {"department": "Finance"},
        }
    )
    assert load_files([path], mapping=m).records[0].department == "Finance"


def test_mapping_merges_department_aliases(tmp_path: Path, write_csv) -> None:
    rows = [
        {
            "name": "Clinics",
            "summary": "Nursing stations.",
            "dept": "Department of  Indigenous Services",
        },
        {"name": "Water", "summary": "Drinking water.", "dept": "isc"},
        {"name": "Parks", "summary": "Trails.", "dept": "Parks Canada"},
    ]
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[columns]\ntitle = "name"\ndescription = "summary"\ndepartment = "dept"\n'
        '[departments]\n"Department of Indigenous Services" = "Indigenous Services Canada"\n'
        '"ISC" = "Indigenous Services Canada"\n'
    )
    records = load_files([write_csv(rows)], mapping=mapping).records
    assert [r.department for r in records] == [
        "Indigenous Services Canada",
        "Indigenous Services Canada",
        "Parks Canada",
    ]
    mapping.write_text('[departments]\n"ISC" = 3\n')
    with pytest.raises(ConfigError, match=r"\[departments\] 'ISC' must map"):
        load_mapping(mapping)


def test_mapping_naming_missing_columns_lists_them_all(tmp_path: Path, write_csv) -> None:
    path = write_csv([row(1)])
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[columns]\ntitle = "Project Name"\ndescription = ["Summary", "description"]\n'
    )
    with pytest.raises(MappingError, match=r"portfolio\.csv.*'Project Name'.*'Summary'"):
        load_files([path], mapping=mapping)


def test_bad_mapping_file_reports_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "m.toml"
    bad.write_text('[columns]\nnope = "x"\ntitle = 3\n')
    with pytest.raises(ConfigError, match=r"unknown field 'nope'.*title must be"):
        load_mapping(bad)


def test_common_column_names_are_recognised() -> None:
    m = infer_mapping(["Project Name", "Summary", "Agency", "Contact E-mail", "Start Date"])
    assert m.columns["title"] == ("Project Name",)
    assert m.columns["description"] == ("Summary",)
    assert m.columns["department"] == ("Agency",)
    assert m.columns["owner_email"] == ("Contact E-mail",)
    assert m.columns["start_date"] == ("Start Date",)


def test_bad_rows_are_quarantined_with_file_row_column(write_csv) -> None:
    rows = [
        row(1),
        row(2, department=""),
        row(3, title="", description=""),
        row(4, owner_email="not-an-email"),
        row(5, start_date="someday soon"),
        row(1, title="same id again"),
        row(6, start_date="July 31, 2022", owner_email="mailto:X.Y@Canada.ca"),
    ]
    path = write_csv(rows)
    result = load_files([path])
    assert result.rows_in == 7
    assert len(result.records) + len(result.problems) == result.rows_in
    by_row = {p.row: p for p in result.problems}
    assert by_row[3].column == "department" and "no department" in by_row[3].reason
    assert by_row[4].column == "title"
    assert by_row[5].column == "owner_email" and "not-an-email" in by_row[5].reason
    assert by_row[6].column == "start_date" and "someday soon" in by_row[6].reason
    assert by_row[7].column == "id" and "row 2" in by_row[7].reason
    assert all(p.file == str(path) for p in result.problems)
    ok = {r.id: r for r in result.records}
    assert ok["r6"].start_date == "2022-07-31" and ok["r6"].owner_email == "X.Y@canada.ca"


def test_undecodable_byte_quarantines_only_that_row(tmp_path: Path) -> None:
    good = "id,title,description,department\nr1,Paye,Système de paie,Finance\n".encode()
    bad = b"r2,Caf\xe9 bad byte,Text,Finance\n"
    path = tmp_path / "mixed.csv"
    path.write_bytes(good + bad + b"r3,Ok,Fine,Finance\n")
    result = load_files([path])
    assert [r.id for r in result.records] == ["r1", "r3"]
    (problem,) = result.problems
    assert problem.row == 3 and problem.column == "title" and "undecodable" in problem.reason


def test_file_without_any_utf8_is_read_as_legacy_encoding(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("id,title,description,department\nr1,Café,Système,Finance\n".encode("cp1252"))
    (rec,) = load_files([path]).records
    assert rec.title == "Café" and rec.description == "Système"


def test_legacy_encodings_and_boms_decode() -> None:
    text = "id,title\nr1,Système de paie énergétique\n"
    for enc in ("utf-8-sig", "utf-16", "cp1252"):
        decoded, _ = decode_bytes(text.encode(enc))
        assert decoded.replace("\r\n", "\n") == text, enc


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="nope.csv: no such file"):
        read_table(tmp_path / "nope.csv")
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"this is not a zip")
    with pytest.raises(IngestError, match="broken.xlsx: cannot read as xlsx"):
        read_table(bad)
    with pytest.raises(IngestError, match="extension"):
        read_table(bad.rename(tmp_path / "x.doc"))


def test_duplicate_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("id,title,title\n1,a,b\n")
    with pytest.raises(IngestError, match="duplicated column name.*title"):
        read_table(path)


def test_language_is_detected_when_absent(write_csv) -> None:
    path = write_csv(
        [
            row(
                1,
                language="",
                title="Système de gestion des courriels",
                description="Remplacer le système de courriel du ministère par un service commun.",
            )
        ]
    )
    assert load_files([path]).records[0].language == "fr"


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_csv_lines_end_as_in_a_file_opened_with_newline_empty(tmp_path: Path, eol: str) -> None:
    # Quoted cells keep their line breaks; a Unicode line separator or form feed inside an
    # unquoted cell is text, not the end of a row; short rows are padded.
    body = eol.join(
        [
            "id,title,description",
            'a,"two\nlines",x\u2028y',
            "b,form\x0cfeed,plain",
            "c,short",
            "",
        ]
    )
    path = tmp_path / "t.csv"
    path.write_bytes(body.encode("utf-8"))
    frame = read_table(path).frame
    assert frame["id"].tolist() == ["a", "b", "c"]
    assert frame["title"].tolist() == ["two\nlines", "form\x0cfeed", "short"]
    assert frame["description"].tolist() == ["x\u2028y", "plain", ""]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32", "utf-8", "cp1252"])
def test_csv_files_are_read_in_their_encoding(tmp_path: Path, encoding: str) -> None:
    # UTF-8 and BOM-marked files are parsed as they are read; a legacy file is decoded whole.
    path = tmp_path / "t.csv"
    path.write_bytes("id,title\nr1,Système de paie\nr2,Café\n".encode(encoding))
    table = read_table(path)
    assert table.frame["title"].tolist() == ["Système de paie", "Café"]
    assert table.encoding == encoding


# ----------------------------------------------------------------- QA pass: mapping and columns

DEPTS = "id,title,description,department\nr1,Payroll,Pay people.,Transports Canada\n"
ALIAS = '[departments]\n"Transports Canada" = "Transport Canada"\n'


@pytest.mark.parametrize(
    "toml",
    ['[columns]\ndepartment = "department"\n' + ALIAS, ALIAS],
    ids=["partial-columns", "departments-only"],
)
def test_partial_mapping_keeps_recognising_the_other_columns(tmp_path: Path, toml: str) -> None:
    path, mapping = tmp_path / "depts.csv", tmp_path / "m.toml"
    path.write_text(DEPTS)
    mapping.write_text(toml)
    result = load_files([path], mapping=mapping)
    assert not result.problems
    (rec,) = result.records
    assert (rec.title, rec.description) == ("Payroll", "Pay people.")
    assert rec.department == "Transport Canada"  # the alias is applied in both cases


def test_a_column_the_mapping_uses_is_not_recognised_again(write_csv) -> None:
    # Mapped: description and owner_email. Recognised: title, department; not the mapped
    # "Contact" (a usual name of owner_name) nor "Summary" (one of description).
    cells = {"Project Name": "Cloud", "Notes": "New.", "Summary": "Old.", "Agency": "SSC"}
    m = mapping_from_dict({"columns": {"description": "Notes", "owner_email": "Contact"}})
    (rec,) = load_files([write_csv([{**cells, "Contact": "a@b.ca"}])], mapping=m).records
    assert (rec.title, rec.description, rec.department) == ("Cloud", "New.", "SSC")
    assert (rec.owner_email, rec.owner_name) == ("a@b.ca", "")
    assert infer_mapping(["Summary", "title"], skip=["title"]).columns == {
        "description": ("Summary",)
    }


@pytest.mark.parametrize(
    ("text", "lacking", "not_lacking"),
    [
        ("foo,bar,baz\n1,2,3\n", ["the department", "the title or description"], []),
        ("id,title,description\nr1,a,b\n", ["the department"], ["the title or description"]),
        ("id,department\nr1,SSC\n", ["the title or description"], ["the department ("]),
        ("foo,bar\n", ["the department", "the title or description"], []),  # header only
    ],
)
def test_file_without_the_columns_a_record_needs_is_refused(
    tmp_path: Path, text: str, lacking: list[str], not_lacking: list[str]
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(text)
    with pytest.raises(MappingError) as err:
        load_files([path])
    message = str(err.value)
    assert message.startswith(f"{path}: no column for ")
    assert all(f"{what} (recognised names: " in message for what in lacking)
    assert not any(f"{what} (recognised names" in message for what in not_lacking)
    header = text.splitlines()[0].split(",")
    assert message.endswith("The file's columns are: " + ", ".join(map(repr, sorted(header))))


def test_header_only_file_with_the_right_columns_is_zero_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("id,title,description,department\n")
    result = load_files([path])
    assert result.rows_in == 0 and not result.records and not result.problems
    path.write_text("id,title\n")  # a default fills the department
    assert (
        load_files([path], mapping=mapping_from_dict({"defaults": {"department": "X"}})).rows_in
        == 0
    )


def test_jsonl_whose_every_line_is_broken_is_quarantined_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text("{oops\n[1, 2\n")
    result = load_files([path])
    assert result.rows_in == 2 and all("not valid JSON" in p.reason for p in result.problems)
    assert [p.values.get("line") for p in result.problems] == ["{oops", "[1, 2"]  # kept


def test_cli_refuses_a_file_without_needed_columns_and_writes_nothing(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from dedupe.cli import app

    path, index = tmp_path / "nodept.csv", tmp_path / "ix"
    path.write_text("id,title,description\nr1,a,b\n")
    res = CliRunner().invoke(app, ["ingest", str(path), "--index", str(index), "--encoder", "fake"])
    assert res.exit_code == 1 and "nodept.csv" in res.output and "department" in res.output
    assert not (index / "manifest.json").exists()


# ---------------------------------------------------------------------------- QA pass: CSV cells


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_cell_longer_than_the_csv_modules_default_limit_is_read(
    tmp_path: Path, delimiter: str
) -> None:
    import csv

    long = ("Replace the payroll system, with care; and more. " * 4000)[:160_000]
    path = tmp_path / "long.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(["id", "title", "description", "department"])
        writer.writerows([["r1", "Long", long, "PSPC"], ["r2", "Short", "Text.", "PSPC"]])
    result = load_files([path])
    assert [len(r.description) for r in result.records] == [len(long.strip()), 5]


def test_a_quote_never_closed_is_an_error_naming_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('id,title,department\nr1,Fine,SSC\nr2,"Opens,SSC\nr3,Lost,SSC\n')
    with pytest.raises(IngestError, match=r"quote\.csv: row 3, column 'title': a quoted cell"):
        load_files([path])


def test_a_cell_over_the_cap_quarantines_its_row(write_csv, monkeypatch) -> None:
    from dedupe.ingest import validate

    monkeypatch.setattr(validate, "MAX_CELL_CHARS", 1000)
    result = load_files([write_csv([row(1, description="x" * 1001), row(2)])])
    (problem,) = result.problems
    assert [r.id for r in result.records] == ["r2"]
    assert (problem.row, problem.column) == (
        2,
        "description",
    ) and "1,001 characters" in problem.reason


# ------------------------------------------------------------------------ QA pass: typed fields


def test_owner_email_display_forms_and_lists(write_csv) -> None:
    rows = [
        row(1, owner_name="", owner_email="Ann Lee <Ann.Lee@tc.gc.ca>"),
        row(2, owner_email="Lee, Ann <ann@tc.gc.ca>; Roy, Bob <bob@tc.gc.ca>"),
        row(3, owner_email="a@tc.gc.ca; b@tc.gc.ca"),
        row(4, owner_email="a@tc.gc.ca; not-an-email"),
        row(5, owner_name="", owner_email="Lee, Ann <ann@tc.gc.ca>; Roy, Bob <bob@tc.gc.ca>"),
    ]
    result = load_files([write_csv(rows)])
    ok = {r.id: r for r in result.records}
    assert (ok["r1"].owner_email, ok["r1"].owner_name) == ("Ann.Lee@tc.gc.ca", "Ann Lee")
    # every owner is kept, and whom-to-call lists each of them
    assert owners_of(ok["r2"]) == (
        Owner(name="Owner 2", email="ann@tc.gc.ca", department="Department 2"),
        Owner(name="", email="bob@tc.gc.ca", department="Department 2"),
    )
    assert [o.email for o in owners_of(ok["r3"])] == ["a@tc.gc.ca", "b@tc.gc.ca"]
    assert [(o.name, o.email) for o in owners_of(ok["r5"])] == [
        ("Lee, Ann", "ann@tc.gc.ca"),
        ("Roy, Bob", "bob@tc.gc.ca"),
    ]
    (problem,) = result.problems
    assert problem.column == "owner_email" and "'not-an-email'" in problem.reason
    assert parse_owners("a@tc.gc.ca; b@tc.gc.ca, Lee, Ann <ann@x.ca>") == (
        ("", "a@tc.gc.ca"),
        ("", "b@tc.gc.ca"),
        ("Lee, Ann", "ann@x.ca"),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,5 M$", 1_500_000.0),
        ("1 500 000 $", 1_500_000.0),
        ("1\u202f500\u202f000\u00a0$", 1_500_000.0),
        ("2,25 G$", 2_250_000_000.0),
        ("$1.5M", 1_500_000.0),
        ("1,500,000", 1_500_000.0),
        ("1 500,50 $", 1500.5),
        ("$1,500", 1500.0),  # an English sign, before the number
        ("1,500 $", 1.5),  # a French one, after it
        ("1.1M", 1_100_000.0),
        ("250k", 250_000.0),
        ("1.5e-10", 1.5e-10),
    ],
)
def test_budgets_in_english_and_french(value: str, expected: float) -> None:
    assert parse_budget(value) == expected


def test_a_budget_the_column_cannot_decide_is_quarantined(write_csv) -> None:
    def budgets(*values: str) -> tuple[list[float | None], list[str]]:
        rows = [row(i, budget=v) for i, v in enumerate(values)]
        result = load_files([write_csv(rows)])
        return [r.budget for r in result.records], [p.reason for p in result.problems]

    assert budgets("1,500", "2,5") == ([1.5, 2.5], [])  # the column writes decimal commas
    assert budgets("1,500", "1,500,000") == ([1500.0, 1_500_000.0], [])
    kept, (reason,) = budgets("1,500", "700")
    assert kept == [700.0] and "ambiguous amount '1,500': 1500" in reason and "or 1.5" in reason


@pytest.mark.parametrize(
    ("dates", "expected", "quarantined"),
    [
        (["01/02/2023", "31/12/2023"], ["2023-02-01", "2023-12-31"], []),  # day-first
        (["01/02/2023", "12/31/2023"], ["2023-01-02", "2023-12-31"], []),  # month-first
        (["01/02/2023", "05/05/2023", "2023/01/02"], ["2023-05-05", "2023-01-02"], [0]),
        (["01/02/2023", "31/12/2023", "12/31/2023"], ["2023-12-31", "2023-12-31"], [0]),
    ],
    ids=["day-first", "month-first", "undecided", "mixed"],
)
def test_date_order_is_decided_per_column(
    write_csv, dates: list[str], expected: list[str], quarantined: list[int]
) -> None:
    result = load_files([write_csv([row(i, start_date=d) for i, d in enumerate(dates)])])
    assert [r.start_date for r in result.records] == expected
    assert [p.row - 2 for p in result.problems] == quarantined
    for p in result.problems:
        assert p.column == "start_date" and "ambiguous date '01/02/2023'" in p.reason
        assert "YYYY-MM-DD" in p.reason


def test_unknown_language_is_quarantined(write_csv) -> None:
    rows = [row(1, language="klingon"), row(2, language="fr-CA"), row(3, language="en+fr")]
    result = load_files([write_csv(rows)])
    assert [r.language for r in result.records] == ["fr", "en"]
    (problem,) = result.problems
    assert problem.column == "language" and "unknown language 'klingon'" in problem.reason


# ---------------------------------------------------------------------------- QA pass: workbooks


def _workbook(path: Path, **sheets: pd.DataFrame) -> Path:
    with pd.ExcelWriter(path) as book:
        for name, frame in sheets.items():
            frame.to_excel(book, sheet_name=name, index=False)
    return path


def test_workbook_rows_come_from_the_first_sheet_with_the_needed_columns(tmp_path: Path) -> None:
    notes = pd.DataFrame({"About this export": ["Projects are on the next sheet."]})
    data = pd.DataFrame([row(1), row(2, department="")])
    later = pd.DataFrame([row(3)])
    path = _workbook(tmp_path / "book.xlsx", Notes=notes, Projects=data, Archive=later)
    result = load_files([path])
    assert result.rows_in == 2 and [r.id for r in result.records] == ["r1"]  # Archive not read
    (problem,) = result.problems
    assert problem.file == f"{path} [sheet 'Projects']" and problem.row == 3
    assert result.files == [str(path)]


def test_workbook_sheets_after_the_usable_one_are_not_parsed(tmp_path: Path, monkeypatch) -> None:
    data = pd.DataFrame([row(1)])
    big = pd.DataFrame([row(n) for n in range(2, 50)])
    path = _workbook(tmp_path / "book.xlsx", Projects=data, Archive=big, Archive2=big)
    parsed: list[str] = []
    real = pd.read_excel

    def counting(book, sheet_name, **kw):
        parsed.append(sheet_name)
        return real(book, sheet_name=sheet_name, **kw)

    monkeypatch.setattr(pd, "read_excel", counting)
    result = load_files([path])
    assert [r.id for r in result.records] == ["r1"] and parsed == ["Projects"]


def test_hidden_sheets_are_not_read_and_the_sheet_used_is_named(tmp_path: Path) -> None:
    import openpyxl

    stale = pd.DataFrame([row(9, title="Retired system")])
    path = _workbook(tmp_path / "book.xlsx", OldData=stale, Projects=pd.DataFrame([row(1)]))
    book = openpyxl.load_workbook(path)
    book["OldData"].sheet_state = "hidden"
    book.save(path)
    result = load_files([path])
    assert [r.id for r in result.records] == ["r1"]
    assert result.notes == []  # one visible sheet: nothing to say
    path = _workbook(
        tmp_path / "two.xlsx",
        Contacts=pd.DataFrame({"who": ["Ann"]}),
        Projects=pd.DataFrame([row(1)]),
        Archive=pd.DataFrame([row(2)]),
    )
    (note,) = load_files([path]).notes
    assert "records from sheet 'Projects'" in note and "not used: 'Contacts', 'Archive'" in note


def test_blank_rows_above_a_sheets_header_are_skipped_and_rows_still_counted(
    tmp_path: Path,
) -> None:
    path = tmp_path / "late.xlsx"
    data = pd.DataFrame([row(1), row(2, department="")])
    with pd.ExcelWriter(path) as book:
        data.to_excel(book, sheet_name="Projects", index=False, startrow=2)  # header on row 3
    result = load_files([path])
    assert [r.id for r in result.records] == ["r1"]
    (problem,) = result.problems
    assert problem.row == 5  # header row 3, then r1 on row 4, r2 on row 5
    (note,) = result.notes
    assert "header on row 3" in note


def test_workbook_without_a_usable_sheet_lists_each_sheets_columns(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "book.xlsx",
        Notes=pd.DataFrame({"About": ["x"]}),
        Codes=pd.DataFrame({"code": ["A"], "department": ["SSC"]}),
    )
    with pytest.raises(
        MappingError,
        match=r"book\.xlsx: no sheet has the columns.*"
        r"sheet 'Notes' has 'About'; sheet 'Codes' has 'code', 'department'",
    ):
        load_files([path])


def test_a_repeated_row_without_an_id_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "noid.csv"
    line = "Payroll,Replace payroll.,PSPC\n"
    path.write_text("title,description,department\n" + line + line, encoding="utf-8")
    result = load_files([path])
    (problem,) = result.problems
    assert "the same row as" in problem.reason and "no id given" in problem.reason
