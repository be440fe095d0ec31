"""The pooled relevance judgements that complete the evaluation's query labels
(benchmarks/family_judgements.csv, benchmarks/new_judgements.csv) and the two functions of
build_eval_sets that read them. The evaluation itself needs ../shared; these do not."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def build_eval_sets():
    spec = importlib.util.spec_from_file_location("build_eval_sets", BENCH / "build_eval_sets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_eval_sets"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("name", "key"), [("family_judgements.csv", "family"), ("new_judgements.csv", "source_id")]
)
def test_shipped_judgements_are_well_formed(name: str, key: str) -> None:
    frame = pd.read_csv(BENCH / name, dtype=str, keep_default_na=False)
    assert list(frame.columns) == [key, "id", "judgement", "reason"]
    assert set(frame["judgement"]) == {"same", "related", "no"}
    assert not frame.duplicated([key, "id"]).any()
    assert (frame["reason"].str.len() > 0).all()
    assert (frame[key] != frame["id"]).all()  # a record is never judged against itself


def test_judged_members_joins_same_only(build_eval_sets, tmp_path: Path) -> None:
    path = tmp_path / "judged.csv"
    path.write_text(
        "family,id,judgement,reason\n"
        "wlm,aafc-wmi,same,another department's workload migration\n"
        "wlm,cloud-security,related,cloud but another problem\n"
        "wlm,fish-licences,no,unrelated\n"
        "gcdocs,aafc-wmi,same,judged into a second family too\n"
        "unknown,x,same,a family the portfolio does not have is ignored\n"
    )
    members = {"wlm": ["cbsa-wlm", "dfo-wlm"], "gcdocs": ["pch-gcdocs"]}
    out = build_eval_sets.judged_members(members, path)
    assert out == {
        "wlm": ["aafc-wmi", "cbsa-wlm", "dfo-wlm"],
        "gcdocs": ["aafc-wmi", "pch-gcdocs"],
    }
    assert members["wlm"] == ["cbsa-wlm", "dfo-wlm"]  # the input is not modified


def test_new_twins_keeps_same_only(build_eval_sets, tmp_path: Path) -> None:
    path = tmp_path / "new.csv"
    path.write_text(
        "source_id,id,judgement,reason\n"
        "esdc-ilms,tc-lms,same,another department's LMS\n"
        "esdc-ilms,csc-lms,same,another department's LMS\n"
        "esdc-ilms,hr-portal,related,same department\n"
        "cra-t1,cra-csr,related,another system\n"
    )
    assert build_eval_sets.new_twins(path) == {"esdc-ilms": ["csc-lms", "tc-lms"]}
