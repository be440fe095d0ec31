"""The suite runs with outbound network blocked: nothing leaves the machine."""

from __future__ import annotations

import os
import socket

import netguard
import pytest


def test_guard_is_installed_for_the_whole_suite() -> None:
    assert netguard.installed()


def test_guard_refuses_non_local_addresses_before_any_packet() -> None:
    # The guard raises before the real connect, so no traffic is sent even here.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(netguard.NetworkBlocked):
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1
        with pytest.raises(netguard.NetworkBlocked):
            socket.getaddrinfo("huggingface.co", 443)
    finally:
        sock.close()
    netguard.attempts.clear()  # the two refusals above were this test's own


def test_loopback_is_allowed() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=5)
    client.close()
    server.close()


def test_model_loading_is_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert "HTTPS_PROXY" not in os.environ


def _unshare_works() -> bool:
    import shutil
    import subprocess

    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.e2e
@pytest.mark.skipif(not _unshare_works(), reason="needs `unshare -n` (root or user namespaces)")
def test_the_cli_runs_with_no_network_at_all(tmp_path) -> None:
    """`make run`'s steps in a network namespace with no interface up: the real encoder loads
    from the installed package and nothing needs the network (a connection attempt would fail)."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    mini = repo / "tests" / "data" / "mini_portfolio.csv"
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.pop("HF_HUB_OFFLINE", None)  # prove it without the offline switches, too
    env.pop("TRANSFORMERS_OFFLINE", None)
    index = tmp_path / "ix"
    steps = [
        ["ingest", str(mini), "--index", str(index), "--json"],
        [
            "check",
            "--index",
            str(index),
            "--title",
            "Online fishing licence renewals",
            "--description",
            "Citizens renew and pay for fishing licences online.",
            "--json",
        ],
    ]
    for args in steps:
        done = subprocess.run(
            ["unshare", "-n", sys.executable, "-m", "dedupe", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=600,
        )
        assert done.returncode in (0, 3), f"{args[0]}: {done.stderr[-2000:]}"
    probe = subprocess.run(
        [
            "unshare",
            "-n",
            sys.executable,
            "-c",
            "import socket; s = socket.socket(); s.settimeout(2); "
            "print(s.connect_ex(('192.0.2.1', 80)))",
        ],
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip() not in ("", "0")  # really no route out in that namespace
