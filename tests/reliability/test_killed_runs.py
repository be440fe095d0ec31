"""Killed runs, full disks and concurrent writers never leave a broken index."""

from __future__ import annotations

import csv
import errno
import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dedupe import Detector
from dedupe.errors import IndexLockedError, IndexWriteError
from dedupe.index.manifest import read_manifest
from dedupe.index.store import PortfolioIndex

ROOT = Path(__file__).resolve().parents[2]


def _portfolio(path: Path, n: int, start: int = 0) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "title", "description", "department", "owner_email"])
        for i in range(start, start + n):
            w.writerow(
                [
                    f"r{i}",
                    f"Initiative {i} on topic {i % 97}",
                    f"Deliver service {i % 211} with platform {i % 53} for clients {i % 31}.",
                    f"Dept {i % 17}",
                    f"owner{i % 500}@example.gc.ca",
                ]
            )
    return path


def _ingest_cmd(csv_path: Path, index: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dedupe",
        "ingest",
        str(csv_path),
        "--index",
        str(index),
        "--encoder",
        "fake",
        "--source",
        "portfolio",
        "--quiet",
        "--json",
    ]


@pytest.mark.slow
def test_sigkill_at_any_point_leaves_the_previous_index(tmp_path: Path) -> None:
    index = tmp_path / "ix"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    small = _portfolio(tmp_path / "small.csv", 2000)
    subprocess.run(_ingest_cmd(small, index), check=True, env=env, capture_output=True, timeout=300)
    big = _portfolio(tmp_path / "big.csv", 15000)
    # How long a full run takes, so kills land in every phase (read, embed, write, swap).
    t0 = time.monotonic()
    probe = tmp_path / "probe"
    subprocess.run(_ingest_cmd(big, probe), check=True, env=env, capture_output=True, timeout=300)
    duration = time.monotonic() - t0
    outcomes = set()
    for fraction in (0.15, 0.35, 0.55, 0.7, 0.8, 0.9, 0.97):
        proc = subprocess.Popen(
            _ingest_cmd(big, index), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(duration * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        opened = PortfolioIndex.open(index, verify=True)  # complete, hashes match
        assert len(opened) in (2000, 15000)
        outcomes.add(len(opened))
        if len(opened) == 15000:  # that run got through; start again from the small one
            subprocess.run(
                _ingest_cmd(small, index), check=True, env=env, capture_output=True, timeout=300
            )
    # A re-run after the last kill completes with the right counts.
    done = subprocess.run(
        _ingest_cmd(big, index), check=True, env=env, capture_output=True, text=True, timeout=300
    )
    assert '"indexed": 15000' in done.stdout
    assert len(PortfolioIndex.open(index, verify=True)) == 15000
    assert not list(index.glob(".*.tmp")), "temporary files were left behind"
    assert 2000 in outcomes


def test_a_failing_write_is_a_clear_error_and_keeps_the_old_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "ix"
    Detector.ingest(index, [_portfolio(tmp_path / "a.csv", 50)], encoder="fake")
    before = read_manifest(index)

    def full_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("dedupe.index.store.faiss.write_index", full_disk)
    with pytest.raises(IndexWriteError, match="No space left on device.*previous index is intact"):
        Detector.ingest(index, [_portfolio(tmp_path / "b.csv", 80)], encoder="fake")
    assert read_manifest(index) == before
    assert len(PortfolioIndex.open(index, verify=True)) == 50


def _limit_file_size(limit: int):
    """A child's files cannot grow past `limit` bytes: writes fail with EFBIG, as on a full disk."""

    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failing write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """(directory, preexec) where writes run out of room: a 400 kB tmpfs when this process may
    mount one (root, as in CI), else an ordinary directory and a 400 kB file-size limit for the
    writing process — either way the kernel refuses the write."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    try:
        mounted = not subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)], capture_output=True
        ).returncode
    except OSError:  # no mount command
        mounted = False
    if not mounted:
        yield mount, _limit_file_size(400 * 1024)
        return
    yield mount, None
    gc.collect()  # close memory maps and sqlite handles still held by dropped objects
    if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(mount)], check=False)  # detach; freed when released


def test_a_real_full_disk(tmp_path: Path, tiny_disk: tuple[Path, object]) -> None:
    disk, preexec = tiny_disk
    index = disk / "ix"
    Detector.ingest(index, [_portfolio(tmp_path / "a.csv", 30)], encoder="fake")
    done = subprocess.run(
        [sys.executable, "-m", "dedupe", "ingest", str(_portfolio(tmp_path / "b.csv", 3000)),
         "--index", str(index), "--encoder", "fake"],
        capture_output=True,
        text=True,
        preexec_fn=preexec,  # type: ignore[arg-type]
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "previous index is intact" in done.stderr
    assert len(PortfolioIndex.open(index, verify=True)) == 30


def test_a_second_writer_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    index = tmp_path / "ix"
    Detector.ingest(index, [_portfolio(tmp_path / "a.csv", 20)], encoder="fake")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from filelock import FileLock; "
            f"lock = FileLock({str(index / '.lock')!r}); lock.acquire(); "
            "print('held', flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(IndexLockedError, match="another dedupe process is writing"):
            Detector.ingest(index, [_portfolio(tmp_path / "b.csv", 30)], encoder="fake")
    finally:
        holder.kill()
        holder.wait()
    assert len(PortfolioIndex.open(index)) == 20
