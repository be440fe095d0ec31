"""Each source's outcome: rows in = indexed + quarantined, and where the quarantined rows are."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from report_helpers import alpha_rows, beta_rows, night, rec, write_rows, write_sources

from dedupe.embed.fake import FakeEncoder
from dedupe.ingest import LoadResult
from dedupe.records import Record
from dedupe.report import SourceOutcome, load_sources, run_report
from dedupe.report.sources import read_sources, settle_outcomes


def run(root: Path, fake: FakeEncoder, n: int):  # type: ignore[no-untyped-def]
    specs = load_sources(root / "sources.toml")
    return run_report(root / "ix", specs, root / "reports", encoder=fake, now=night(n))


def add_source(root: Path, name: str, rows: list[dict[str, str]]) -> None:
    write_rows(root / "exports" / f"{name}.csv", rows)
    toml = root / "sources.toml"
    toml.write_text(
        toml.read_text() + f'\n[[source]]\nname = "{name}"\npath = "exports/{name}.csv"\n'
    )


def by_name(folder: Path) -> dict[str, dict[str, object]]:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return {s["name"]: s for s in summary["sources"]}


def test_a_source_all_quarantined_is_counted_and_its_rows_written(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    write_sources(tmp_path, alpha_rows(), beta_rows())
    add_source(
        tmp_path, "alien", [rec("x1", "Ray gun", "A ray gun.", ""), rec("x2", "", "", "Mars")]
    )
    result = run(tmp_path, fake, 0)
    assert result.exit_code == 4
    alien = by_name(result.folder)["alien"]
    assert alien["status"] == "failed" and alien["reason"] == "all 2 rows quarantined"
    assert (alien["rows_in"], alien["records"], alien["quarantined"]) == (2, 0, 2)
    quarantine = Path(str(alien["quarantine"]))
    rows = pd.read_csv(quarantine)
    assert sorted(rows["row"]) == [2, 3] and all(rows["file"].str.endswith("alien.csv"))
    assert rows["reason"].str.len().min() > 0
    assert by_name(result.folder)["alpha"]["quarantine"] is None  # nothing of alpha's there
    html = (result.folder / "report.html").read_text(encoding="utf-8")
    assert html.count(str(quarantine)) == 2  # in the red box and in the sources table
    assert result.report.ingest["quarantined"] == 2 and result.report.ingest["rows_in"] == 11


def test_an_id_used_by_an_earlier_source_is_quarantined_in_its_own_source(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    beta = beta_rows() + [rec("a3", "Grants portal", "Grants online portal.", "Beta Bureau")]
    write_sources(tmp_path, alpha_rows(), beta)
    result = run(tmp_path, fake, 0)
    assert result.exit_code == 0
    got = by_name(result.folder)
    assert (got["alpha"]["rows_in"], got["alpha"]["records"], got["alpha"]["quarantined"]) == (
        5,
        5,
        0,
    )
    assert (got["beta"]["rows_in"], got["beta"]["records"], got["beta"]["quarantined"]) == (5, 4, 1)
    rows = pd.read_csv(Path(str(got["beta"]["quarantine"])))
    [reason] = rows["reason"]
    assert reason.startswith("duplicate id 'a3': first used in") and "alpha.csv row 4" in reason
    assert list(rows["file"].str.endswith("beta-2025.csv")) == [True]
    ingest = result.report.ingest
    assert (ingest["rows_in"], ingest["indexed"], ingest["quarantined"]) == (10, 9, 1)
    assert result.report.headline.initiatives == 9
    table = (result.folder / "report.html").read_text(encoding="utf-8")
    assert str(got["beta"]["quarantine"]) in table


def test_read_sources_alone_counts_cross_source_duplicates(tmp_path: Path) -> None:
    beta = [rec("a1", "Copy", "A copy.", "Beta Bureau"), rec("a2", "Copy", "Copy.", "Beta Bureau")]
    write_sources(tmp_path, alpha_rows(), beta)
    loaded, outcomes = read_sources(load_sources(tmp_path / "sources.toml"))
    assert [(o.ok, o.rows_in, o.records, o.quarantined) for o in outcomes] == [
        (True, 5, 5, 0),
        (False, 2, 0, 2),  # every row an earlier source's id: failed, previous records kept
    ]
    assert outcomes[1].reason == "all 2 rows quarantined"
    assert len(loaded.records) == 5 and len(loaded.problems) == 2 and loaded.rows_in == 7


def test_settle_counts_what_the_ingest_quarantined_too() -> None:
    def record(rid: str) -> Record:
        return Record(id=rid, title=rid, description="", department="D", source="s")

    loaded = LoadResult(
        records=[record("a"), record("b"), record("c")], sources=["one", "one", "two"], rows_in=3
    )
    outcomes = [
        SourceOutcome("one", True, rows_in=2, records=2),
        SourceOutcome("two", True, rows_in=1, records=1),
    ]
    # The index holds a under "one" and c under a source kept from an earlier night: b and c
    # were quarantined by the ingest (c's id belongs to another source).
    frame = pd.DataFrame({"id": ["a", "c"], "origin": ["one", "kept"]})
    one, two = settle_outcomes(outcomes, loaded, frame)
    assert (one.ok, one.rows_in, one.records, one.quarantined) == (True, 2, 1, 1)
    assert (two.ok, two.rows_in, two.records, two.quarantined) == (False, 1, 0, 1)
    assert two.reason == "all 1 rows quarantined"
