"""The suite runs with outbound network blocked: nothing leaves the machine."""

from __future__ import annotations

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
