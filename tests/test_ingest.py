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
