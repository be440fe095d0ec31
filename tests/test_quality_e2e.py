"""End to end with the real `use` encoder on the real mini portfolio: tiers, EN↔FR, novelty, CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dedupe.detector import Detector
from dedupe.records import Proposal, Tier

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "data" / "mini_portfolio.csv"
MAPPING = ROOT / "data" / "sample" / "mapping.toml"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, use_encoder) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("quality") / "idx"
    Detector.ingest(path, [MINI], mapping=MAPPING, encoder=use_encoder)
    return path


@pytest.fixture(scope="module")
def detector(index: Path, use_encoder) -> Detector:  # type: ignore[no-untyped-def]
    return Detector.open(index, encoder=use_encoder)


def as_proposal(det: Detector, rid: str) -> Proposal:
    r = next(r for r in det.records if r.id == rid)
    return Proposal(
        title=r.title,
        description=r.description,
        department=r.department,
        language=r.language,
        id=r.id,
    )


def test_eti_family_member_ranks_first_as_duplicate(detector: Detector) -> None:
    result = detector.check(as_proposal(detector, "ca-itp-cbsa-eti"))
    top = result.matches[0]
    assert top.id.endswith("-eti") and top.id != "ca-itp-cbsa-eti"
    assert top.tier is Tier.DUPLICATE and not top.same_department
    assert top.reason.sentence_a and top.reason.shared_terms


@pytest.mark.parametrize(
    ("query", "twin"),
    [
        ("ca-prog-HRSD-BGM04-fr-twin", "ca-prog-HRSD-BGM04"),
        ("ca-prog-HRSD-BGM04", "ca-prog-HRSD-BGM04-fr-twin"),
    ],
)
def test_french_twin_is_found_at_the_flag_threshold(
    detector: Detector, query: str, twin: str
) -> None:
    result = detector.check(as_proposal(detector, query))
    hit = next((m for m in result.matches if m.id == twin), None)
    assert hit is not None, [(m.id, m.score) for m in result.matches]
    assert hit.score >= detector.params.overlap_at


def test_novel_proposal_is_not_flagged(detector: Detector) -> None:
    novel = Proposal(
        title="Ocean noise monitoring",
        description="A hydrophone network to measure underwater noise from shipping and its "
        "effect on whales. Priority: Medium. Gate: 1. Funding source: A-base.",
        department="Fisheries and Oceans Canada",
    )
    assert not detector.check(novel).flagged


def run_check(index: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dedupe", "check", "--index", str(index), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_exit_codes(index: Path) -> None:
    flagged = run_check(
        index,
        "--title",
        "Email Transformation Initiative",
        "--description",
        "Migrate our department's email to the consolidated Government of "
        "Canada email platform run by Shared Services Canada.",
        "--department",
        "Transport Canada",
        "--json",
    )
    assert flagged.returncode == 3, flagged.stderr
    assert '"tier": "duplicate"' in flagged.stdout or '"tier": "overlap"' in flagged.stdout
    novel = run_check(
        index,
        "--title",
        "Ocean noise monitoring",
        "--description",
        "Hydrophones measuring underwater noise from shipping and its effect on whales.",
    )
    assert novel.returncode == 0, novel.stdout + novel.stderr
