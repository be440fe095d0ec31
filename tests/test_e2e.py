"""End to end with the real multilingual USE encoder on a small real slice (tests/data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import MINI, SAMPLE_MAPPING
from typer.testing import CliRunner

from dedupe import Detector, Proposal
from dedupe.cli import app

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, use_encoder) -> Path:
    path = tmp_path_factory.mktemp("e2e") / "ix"
    summary = Detector.ingest(path, [MINI], mapping=SAMPLE_MAPPING, encoder=use_encoder)
    assert summary.rows_in == summary.indexed + summary.quarantined
    return path


@pytest.fixture(scope="module")
def detector(index: Path, use_encoder) -> Detector:
    return Detector.open(index, encoder=use_encoder)


def test_manifest_names_the_real_model(index: Path) -> None:
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["model_id"].startswith("use-multilingual-v3") and manifest["dim"] == 512


def test_a_cross_department_family_ranks_first(detector: Detector) -> None:
    result = detector.check(
        Proposal(
            title="Moving our department's e-mail to the shared government e-mail service",
            description="Migrate all mailboxes from our legacy email servers to the single "
            "Government of Canada email platform run by Shared Services Canada, then "
            "decommission the old servers.",
            department="Natural Resources Canada",
        ),
        include_below=True,
    )
    ranked = [m.id for m in (*result.matches, *result.below)]
    assert ranked[0].endswith(("-eti", "-etir")), ranked[:5]
    assert sum(i.endswith(("-eti", "-etir")) for i in ranked[:5]) >= 4


def test_french_record_finds_its_english_twin(detector: Detector) -> None:
    twin = next(r for r in detector.records if r.id == "ca-prog-HRSD-BGM04-fr-twin")
    assert twin.language == "fr"
    result = detector.check(
        Proposal(title=twin.title, description=twin.description, id=twin.id), include_below=True
    )
    ranked = [m.id for m in (*result.matches, *result.below)]
    assert "ca-prog-HRSD-BGM04" in ranked[:3], ranked[:5]


def test_cli_check_with_the_real_model(index: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "check",
            "--index",
            str(index),
            "--title",
            "Learning Management System replacement",
            "--description",
            "Replace the departmental learning management system used for "
            "employee training, course registration and training records.",
            "--json",
            "--all",
        ],
    )
    assert res.exit_code in (0, 3), res.output
    data = json.loads(res.stdout)
    assert isinstance(data["matches"], list) and isinstance(data["owners"], list)
