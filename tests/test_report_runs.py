"""`python -m dedupe report` as cron runs it: killed mid-run, run twice at once, reviewers' DB."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
from report_helpers import alpha_rows, beta_rows, write_many, write_sources
from typer.testing import CliRunner, Result

from dedupe import Detector
from dedupe.embed.fake import FakeEncoder
from dedupe.report import load_sources, report_lock, run_report

ROOT = Path(__file__).resolve().parents[1]


def cli(root: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dedupe",
        "report",
        "--index",
        str(root / "ix"),
        "--sources",
        str(root / "sources.toml"),
        "--out",
        str(root / "reports"),
        "--encoder",
        "fake",
        *extra,
    ]


def kill_at(root: Path, stage: str, delay: float = 0.0, timeout: float = 60) -> str:
    """Start a report run, SIGKILL it `delay` s after it prints `stage`; return what it printed."""
    proc = subprocess.Popen(
        cli(root), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        for line in proc.stderr:
            seen.append(line)
            if stage in line:
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                break
            assert time.monotonic() < deadline, f"no {stage!r} stage: {''.join(seen)}"
    finally:
        proc.kill()
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL, "".join(seen)  # it was killed, not finished
    return "".join(seen)


def assert_previous_intact(root: Path, folder: Path, n_records: int) -> None:
    reports = root / "reports"
    assert (reports / "latest").resolve() == folder.resolve()
    assert len(pd.read_parquet(reports / "latest" / "pairs.parquet")) > 0
    assert "heatmap" in (reports / "latest" / "report.html").read_text(encoding="utf-8")
    assert len(Detector.open(root / "ix", encoder=FakeEncoder()).records) == n_records


def test_sigkill_at_any_stage_leaves_the_previous_report_and_index(tmp_path: Path) -> None:
    write_many(tmp_path, 40)
    first = run_report(
        tmp_path / "ix", load_sources(tmp_path / "sources.toml"), tmp_path / "reports",
        encoder=FakeEncoder(),
    )  # fmt: skip
    n = first.report.headline.initiatives
    assert n == 160
    stages = [("ingesting", 0.3), ("finding pairs", 0.0), ("writing the report", 0.0)]
    for night, (stage, delay) in enumerate(stages, 1):
        write_many(tmp_path, 40, seed=night)  # every record changed: real work for the run
        kill_at(tmp_path, stage, delay)
        assert_previous_intact(tmp_path, first.folder, n)
    done = invoke(*cli(tmp_path, "--json")[3:])  # the next run completes
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["previous_run"] == first.folder.name
    assert summary["headline"]["initiatives"] == n
    latest = (tmp_path / "reports" / "latest").resolve()
    assert latest == Path(summary["folder"]).resolve() != first.folder.resolve()
    leftovers = [p.name for p in (tmp_path / "reports").iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []  # a killed run's half-written folder is cleaned up by the next


def test_a_second_concurrent_run_is_refused_with_the_lock_message(tmp_path: Path) -> None:
    write_sources(tmp_path, alpha_rows(), beta_rows())
    held = report_lock(tmp_path / "ix")  # as a running `dedupe report` holds it
    held.acquire()
    try:
        second = subprocess.run(cli(tmp_path), cwd=ROOT, capture_output=True, text=True)
    finally:
        held.release()
    assert second.returncode == 1
    assert "another dedupe run" in second.stderr and ".lock" in second.stderr
    assert not (tmp_path / "reports" / "latest").exists()


def invoke(*args: str) -> Result:
    from dedupe.cli import app

    return CliRunner().invoke(app, list(args))


def test_wait_queues_behind_a_running_report(tmp_path: Path) -> None:
    write_sources(tmp_path, alpha_rows(), beta_rows())
    acquired, done = threading.Event(), threading.Event()

    def other_run() -> None:  # another run holding the index for a second
        with report_lock(tmp_path / "ix"):
            acquired.set()
            done.wait(1.0)

    holder = threading.Thread(target=other_run)
    holder.start()
    acquired.wait(10)
    queued = invoke(*cli(tmp_path, "--wait", "60")[3:])
    holder.join()
    assert queued.exit_code == 0, queued.output
    assert (tmp_path / "reports" / "latest" / "report.html").exists()


def test_pairs_reviewers_decided_are_not_new_via_the_review_db(tmp_path: Path) -> None:
    from dedupe.review.known import current_hashes
    from dedupe.review.store import ReviewStore

    write_sources(tmp_path, alpha_rows(), beta_rows())
    assert invoke(*cli(tmp_path, "--out", str(tmp_path / "r0"))[3:]).exit_code == 0
    hashes = current_hashes(Detector.open(tmp_path / "ix", encoder=FakeEncoder()))
    db = f"sqlite:///{tmp_path / 'review.db'}"
    store = ReviewStore.open(db)
    store.record_decision(
        id_a="b1", id_b="a1", verdict="overlap", user="alice",
        text_hash_a=hashes["b1"], text_hash_b=hashes["a1"],
    )  # fmt: skip
    store.close()
    done = invoke(*cli(tmp_path, "--db", db, "--json")[3:])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["headline"]["new"] == 1  # a2-b2 only
    rows = pd.read_parquet(tmp_path / "reports" / "latest" / "pairs.parquet")
    email = rows[(rows["id_a"] == "a1") & (rows["id_b"] == "b1")].iloc[0]
    assert email["status"] == "persisting" and email["decision"] == "overlap by alice"
    html = (tmp_path / "reports" / "latest" / "report.html").read_text(encoding="utf-8")
    assert "overlap by alice" in html
