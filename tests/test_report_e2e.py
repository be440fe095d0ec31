"""The nightly report with the real `use` encoder on the 215-row mini portfolio."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import MINI, SAMPLE_MAPPING

from dedupe.report import load_sources, run_report

pytestmark = pytest.mark.e2e


def test_real_portfolio_report_finds_the_known_families(tmp_path: Path, use_encoder: Any) -> None:
    (tmp_path / "sources.toml").write_text(
        f'[[source]]\nname = "mini"\npath = "{MINI}"\nmapping = "{SAMPLE_MAPPING}"\n',
        encoding="utf-8",
    )
    specs = load_sources(tmp_path / "sources.toml")
    result = run_report(tmp_path / "ix", specs, tmp_path / "reports", encoder=use_encoder)
    rep = result.report
    assert result.exit_code == 0 and rep.headline.initiatives == 215
    assert rep.model_id == use_encoder.model_id

    def cluster_of(rid: str):  # type: ignore[no-untyped-def]
        return next(c for c in rep.clusters if rid in {m.id for m in c.members})

    eti = cluster_of("ca-itp-ssc-eti")  # the Email Transformation Initiative, many departments
    eti_ids = {m.id for m in eti.members}
    assert {"ca-itp-cbsa-eti", "ca-itp-pspc-eti", "ca-itp-esdc-eti"} <= eti_ids
    assert len(eti.departments) >= 4 and "email" in eti.label.lower()
    gcpm = cluster_of("ca-itp-acoa-gcpm")  # the same text in the regional development agencies
    assert {"ca-itp-wd-gcpm", "ca-itp-ced-gcpm"} <= {m.id for m in gcpm.members}
    assert not eti_ids & {m.id for m in gcpm.members}
    for p in rep.pairs:  # every cross-department pair says why
        assert p.department_a != p.department_b and (p.shared_terms or p.sentence_a)
    summary = json.loads((result.folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["headline"]["pairs_flagged"] == len(rep.pairs) > 0

    again = run_report(tmp_path / "ix", specs, tmp_path / "reports", encoder=use_encoder)
    assert again.report.ingest["embedded"] == 0
    assert again.report.headline.new == 0 and again.report.headline.resolved == 0
    assert cluster_of("ca-itp-ssc-eti").cluster_id == next(
        c.cluster_id for c in again.report.clusters if "ca-itp-ssc-eti" in {m.id for m in c.members}
    )
