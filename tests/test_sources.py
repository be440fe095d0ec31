"""Sources share one index without overwriting each other: ids and file names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dedupe import Detector
from dedupe.embed.fake import FakeEncoder
from dedupe.errors import UsageError

COLUMNS = "id,title,description,department\n"


def _csv(path: Path, rows: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(COLUMNS + rows, encoding="utf-8")
    return path


def _titles(index: Path) -> dict[str, str]:
    frame = Detector.open(index, encoder=FakeEncoder()).index.frame
    return dict(zip(frame["id"], frame["title"], strict=True))


def test_an_id_held_by_another_source_is_quarantined_not_swapped(tmp_path: Path) -> None:
    health = _csv(
        tmp_path / "health.csv",
        "1,Drug shortage tracker,Tracks national drug shortages.,Health Canada\n"
        "2,Pest registry,Registry of pest control products.,Health Canada\n",
    )
    transport = _csv(
        tmp_path / "transport.csv",
        "1,Drone pilot licensing,Online exams for drone pilots.,Transport Canada\n"
        "3,Rail safety,Rail inspection records.,Transport Canada\n",
    )
    index = tmp_path / "ix"
    Detector.ingest(index, [health], encoder=FakeEncoder())
    s = Detector.ingest(index, [transport], encoder=FakeEncoder())
    assert (s.rows_in, s.indexed, s.quarantined, s.added, s.updated) == (2, 1, 1, 1, 0)
    assert s.rows_in == s.indexed + s.quarantined
    assert s.quarantine_path is not None
    reasons = pd.read_csv(s.quarantine_path)
    assert "already belongs to a record of source 'health'" in reasons["reason"].iat[0]
    assert _titles(index) == {
        "1": "Drug shortage tracker",
        "2": "Pest registry",
        "3": "Rail safety",
    }
    again = Detector.ingest(index, [health], encoder=FakeEncoder())  # nightly: no flip-flop
    assert (again.updated, again.quarantined) == (0, 0)
    assert _titles(index)["1"] == "Drug shortage tracker"


def test_a_same_named_file_from_another_folder_does_not_replace_a_source(tmp_path: Path) -> None:
    hc = _csv(
        tmp_path / "hc" / "portfolio.csv",
        "hc1,Pest registry,Online registry of pest control products.,Health Canada\n",
    )
    tc = _csv(
        tmp_path / "tc" / "portfolio.csv",
        "tc1,Drone pilot licensing,Online exams for drone pilots.,Transport Canada\n",
    )
    index = tmp_path / "ix"
    Detector.ingest(index, [hc], encoder=FakeEncoder())
    assert Detector.ingest(index, [hc], encoder=FakeEncoder()).removed == 0  # same file again
    with pytest.raises(UsageError, match=r"source 'portfolio'.*hc/portfolio\.csv.*--source"):
        Detector.ingest(index, [tc], encoder=FakeEncoder())
    assert set(_titles(index)) == {"hc1"}  # nothing written
    Detector.ingest(index, [tc], encoder=FakeEncoder(), source="tc")  # its own name: both kept
    assert set(_titles(index)) == {"hc1", "tc1"}
    moved = _csv(
        tmp_path / "new" / "export.csv",
        "hc2,Pest registry 2,Registry of pest control products online.,Health Canada\n",
    )
    s = Detector.ingest(index, [moved], encoder=FakeEncoder(), source="portfolio")  # on purpose
    assert s.removed == 1 and set(_titles(index)) == {"tc1", "hc2"}


def test_two_same_named_files_in_one_ingest_are_refused(tmp_path: Path) -> None:
    a = _csv(tmp_path / "a" / "portfolio.csv", "1,Payroll,Pay staff.,Health Canada\n")
    b = _csv(tmp_path / "b" / "portfolio.csv", "3,Fleet,Track trucks.,Transport Canada\n")
    with pytest.raises(UsageError, match=r"2 files are named 'portfolio'.*--source"):
        Detector.ingest(tmp_path / "ix", [a, b], encoder=FakeEncoder())
    assert not (tmp_path / "ix" / "manifest.json").exists()
