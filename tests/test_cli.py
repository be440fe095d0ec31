from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from conftest import row
from typer.testing import CliRunner

from dedupe.cli import app
from dedupe.errors import UsageError

runner = CliRunner()
EMAIL = "Consolidate departmental email systems onto one shared email platform for all staff."


def _portfolio(write_csv) -> Path:
    return write_csv(
        [
            row(
                1,
                title="Email Transformation Initiative",
                description=EMAIL,
                department="SSC",
                owner_name="Sam Lee",
                owner_email="sam.lee@ssc.gc.ca",
            ),
            row(
                2,
                title="Fishing vessel inspection",
                description="Inspect vessels at sea.",
                department="DFO",
            ),
            row(
                3,
                title="Payroll modernization",
                description="Replace payroll for staff.",
                department="PSPC",
            ),
        ]
    )


def _ingest(tmp_path: Path, write_csv) -> Path:
    index = tmp_path / "ix"
    res = runner.invoke(
        app,
        [
            "ingest",
            str(_portfolio(write_csv)),
            "--index",
            str(index),
            "--encoder",
            "fake",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    return index


def test_ingest_json_summary(tmp_path: Path, write_csv) -> None:
    index = tmp_path / "ix"
    res = runner.invoke(
        app,
        [
            "ingest",
            str(_portfolio(write_csv)),
            "--index",
            str(index),
            "--encoder",
            "fake",
            "--json",
        ],
    )
    data = json.loads(res.stdout)
    assert data["rows_in"] == data["indexed"] + data["quarantined"] == 3


def test_check_exit_3_when_flagged_with_json(tmp_path: Path, write_csv) -> None:
    index = _ingest(tmp_path, write_csv)
    res = runner.invoke(
        app,
        [
            "check",
            "--index",
            str(index),
            "--title",
            "Email Transformation Initiative",
            "--description",
            EMAIL,
            "--json",
        ],
    )
    assert res.exit_code == 3, res.output
    data = json.loads(res.stdout)
    assert data["matches"][0]["id"] == "r1"
    assert data["matches"][0]["tier"] in {"duplicate", "overlap"}
    assert data["owners"][0] == {
        "name": "Sam Lee",
        "email": "sam.lee@ssc.gc.ca",
        "department": "SSC",
        "initiatives": ["r1"],
    }


def test_check_exit_0_when_nothing_flagged(tmp_path: Path, write_csv) -> None:
    index = _ingest(tmp_path, write_csv)
    res = runner.invoke(app, ["check", "--index", str(index), "--title", "Arctic sea ice radar"])
    assert res.exit_code == 0, res.output
    assert "No existing initiative" in res.stdout
    # the closest candidate is named, below the bar, with its score; the exit code stays 0
    assert "Closest, below the bar (not flagged):" in res.stdout
    assert "score 0." in res.stdout
    as_json = runner.invoke(
        app, ["check", "--index", str(index), "--title", "Arctic sea ice radar", "--json"]
    )
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == {"matches": [], "owners": []}


def test_check_from_file_and_human_table(tmp_path: Path, write_csv) -> None:
    index = _ingest(tmp_path, write_csv)
    proposal = tmp_path / "p.json"
    proposal.write_text(
        json.dumps(
            {"title": "Email Transformation Initiative", "description": EMAIL, "department": "SSC"}
        )
    )
    res = runner.invoke(
        app, ["check", "--index", str(index), "--file", str(proposal)], env={"COLUMNS": "200"}
    )
    assert res.exit_code == 3
    assert "Email Transformation Initiative" in res.stdout and "sam.lee@ssc.gc.ca" in res.stdout
    assert "same dept" in res.stdout


def test_errors_exit_1_and_usage_exit_2(tmp_path: Path, write_csv) -> None:
    res = runner.invoke(app, ["check", "--index", str(tmp_path / "none"), "--title", "x"])
    assert res.exit_code == 1 and "no index here" in res.output
    res = runner.invoke(
        app, ["ingest", str(tmp_path / "missing.csv"), "--index", str(tmp_path / "ix")]
    )
    assert res.exit_code == 1 and "missing.csv" in res.output
    index = _ingest(tmp_path, write_csv)
    res = runner.invoke(app, ["check", "--index", str(index)])
    assert res.exit_code == 2
    res = runner.invoke(app, ["check", "--index", str(index), "--limit", "0", "--title", "x"])
    assert res.exit_code == 2


def test_bad_mapping_is_exit_1_and_index_untouched(tmp_path: Path, write_csv) -> None:
    index = _ingest(tmp_path, write_csv)
    before = (index / "manifest.json").read_text()
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\ntitle = "Project Name"\n')
    res = runner.invoke(
        app,
        ["ingest", str(_portfolio(write_csv)), "--index", str(index), "--mapping", str(mapping)],
    )
    assert res.exit_code == 1 and "'Project Name'" in res.output and "portfolio.csv" in res.output
    assert (index / "manifest.json").read_text() == before


def _commands() -> list[str]:
    """Every command path, sub-commands included (e.g. "users add")."""
    out: list[str] = []

    def walk(group: object, prefix: list[str]) -> None:
        for name, cmd in sorted(getattr(group, "commands", {}).items()):
            out.append(" ".join([*prefix, name]))
            walk(cmd, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return out


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_with_an_example(command: str) -> None:
    res = runner.invoke(app, [*command.split(), "--help"])
    assert res.exit_code == 0
    assert "Example" in res.stdout or "example" in res.stdout, f"{command} --help has no example"


def test_python_dash_m_runs_the_cli() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "dedupe", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "check" in out.stdout


def test_check_all_json_lists_the_candidates_below_the_bar(tmp_path: Path, write_csv) -> None:
    index = _ingest(tmp_path, write_csv)
    args = ["check", "--index", str(index), "--title", "Arctic sea ice radar", "--json", "--all"]
    res = runner.invoke(app, args)
    data = json.loads(res.stdout)
    assert res.exit_code == 0 and data["matches"] == [] and data["below"]
    assert {m["tier"] for m in data["below"]} == {"below"}


def test_proposal_and_index_mistakes_are_named(tmp_path: Path, write_csv) -> None:
    index = _ingest(tmp_path, write_csv)
    empty = tmp_path / "p.json"
    empty.write_text("{}")
    res = runner.invoke(app, ["check", "--index", str(index), "--file", str(empty)])
    assert res.exit_code == 1 and "p.json: no title and no description" in res.output
    res = runner.invoke(app, ["check", "-i", str(index), "-t", "Payroll", "--language", "de"])
    assert res.exit_code == 2 and "expected en or fr" in res.output
    latin = tmp_path / "p.txt"
    latin.write_bytes("Modernisation de la paie\nRemplacer la paie des employés.".encode("cp1252"))
    assert runner.invoke(app, ["check", "-i", str(index), "-f", str(latin)]).exit_code in (0, 3)
    a_file = tmp_path / "data.csv"
    a_file.write_text("id\n")
    res = runner.invoke(app, ["check", "--index", str(a_file), "--title", "x"])
    assert res.exit_code == 1 and "a file, not an index folder" in res.output
    res = runner.invoke(app, ["ingest", str(_portfolio(write_csv)), "--index", str(a_file)])
    assert res.exit_code == 2 and "a file, not an index folder" in res.output
    res = runner.invoke(app, ["check", "--index", str(index), "--file", str(tmp_path)])
    assert res.exit_code == 1 and "a folder, not a proposal file" in res.output
    from dedupe.index.lock import index_lock  # report and calibrate take the same lock

    with pytest.raises(UsageError, match="a file, not an index folder"):
        index_lock(a_file)


def test_a_broken_manifest_is_rebuilt_with_rebuild(tmp_path: Path, write_csv) -> None:
    index = _ingest(tmp_path, write_csv)
    (index / "manifest.json").write_text("{not json")
    res = runner.invoke(app, ["check", "--index", str(index), "--title", "Payroll"])
    assert res.exit_code == 1 and "dedupe ingest --rebuild" in res.output
    args = ["ingest", str(_portfolio(write_csv)), "--index", str(index), "--encoder", "fake"]
    assert runner.invoke(app, [*args, "--rebuild"]).exit_code == 0
    res = runner.invoke(app, ["check", "--index", str(index), "--title", "Payroll modernization"])
    assert res.exit_code == 3, res.output


def test_reading_commands_create_no_review_database(tmp_path: Path, write_csv) -> None:
    index = _ingest(tmp_path, write_csv)
    res = runner.invoke(app, ["decisions", "export", "--index", str(index)])
    assert res.exit_code == 1 and "no review database at" in res.output
    res = runner.invoke(app, ["tokens", "add", "bot", "--index", str(index)])
    assert res.exit_code == 1
    elsewhere = f"sqlite:///{tmp_path / 'typo.db'}"
    res = runner.invoke(app, ["calibrate", "--index", str(index), "--db", elsewhere])
    assert res.exit_code == 1 and "typo.db" in res.output
    assert not (index / "review.db").exists() and not (tmp_path / "typo.db").exists()


def test_output_cut_short_by_a_closed_pipe_keeps_the_exit_code(tmp_path: Path, write_csv) -> None:
    import subprocess
    import sys

    index = _ingest(tmp_path, write_csv)
    # `true` reads nothing and exits long before the CLI has started: every write hits EPIPE.
    script = (
        f"{sys.executable} -m dedupe check -i {index} -t 'Email Transformation Initiative' "
        f"-d '{EMAIL}' --json | true; exit ${{PIPESTATUS[0]}}"
    )
    for form in ("--json", ""):  # JSON, and the rich table
        done = subprocess.run(
            ["bash", "-c", script.replace("--json", form)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 3, (form, done.stderr)
        assert "Traceback" not in done.stderr


def test_an_unknown_department_is_warned_with_the_closest_names(tmp_path: Path, write_csv) -> None:
    index = _ingest(tmp_path, write_csv)
    res = runner.invoke(app, ["check", "-i", str(index), "-t", "Payroll", "--department", "pspc"])
    assert "is not in the index" not in res.stderr  # case aside, it is known
    res = runner.invoke(app, ["check", "-i", str(index), "-t", "Payroll", "--department", "DFOO"])
    assert "'DFOO' is not in the index" in res.stderr and "did you mean 'DFO'" in res.stderr


def test_a_small_portfolio_is_cautioned_about_and_a_large_one_is_not(
    tmp_path: Path, write_csv, monkeypatch
) -> None:
    index = _ingest(tmp_path, write_csv)
    res = runner.invoke(app, ["check", "-i", str(index), "-t", "Payroll"])
    assert "note: the index holds" in res.stderr and "dedupe calibrate" in res.stderr
    monkeypatch.setattr("dedupe.detector.SMALL_PORTFOLIO", 3)
    res = runner.invoke(app, ["check", "-i", str(index), "-t", "Payroll"])
    assert "note:" not in res.stderr


def test_another_encoder_is_refused_before_its_model_loads(tmp_path: Path, write_csv) -> None:
    index = _ingest(tmp_path, write_csv)
    args = ["ingest", str(_portfolio(write_csv)), "--index", str(index), "--encoder", "minilm"]
    res = runner.invoke(app, args)
    assert res.exit_code == 1
    assert "built with encoder 'fake'" in res.output and "leave --encoder out" in res.output


def test_an_empty_export_is_warned_about_and_keeps_the_index(tmp_path: Path, write_csv) -> None:
    from dedupe import Detector
    from dedupe.embed.fake import FakeEncoder

    export, index = _portfolio(write_csv), tmp_path / "ix"
    res = runner.invoke(app, ["ingest", str(export), "--index", str(index), "--encoder", "fake"])
    assert res.exit_code == 0, res.output
    export.write_text("id,title,description,department\n", encoding="utf-8")  # same source, empty
    res = runner.invoke(app, ["ingest", str(export), "--index", str(index)])
    assert res.exit_code == 0, res.output
    assert "no rows read (an empty export?)" in res.stderr and "keeps the records" in res.stderr
    assert len(Detector.open(index, encoder=FakeEncoder()).index) == 3
