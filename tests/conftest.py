"""Shared fixtures: isolated environment, fake encoder, small real data, one real model per run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dedupe.embed.fake import FakeEncoder

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
MINI = DATA / "mini_portfolio.csv"
SAMPLE_MAPPING = ROOT / "data" / "sample" / "mapping.toml"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
for _proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_proxy, None)


def pytest_configure(config: pytest.Config) -> None:
    import netguard

    netguard.install()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import netguard

    if netguard.attempts:
        print(f"\nNETWORK ACCESS ATTEMPTED during tests: {netguard.attempts}")
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUPE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DEDUPE_INDEX", raising=False)


@pytest.fixture
def fake() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write rows (list of dicts) as a UTF-8 CSV and return its path."""
    import csv

    def _write(rows: list[dict[str, str]], name: str = "portfolio.csv") -> Path:
        path = tmp_path / name
        cols: list[str] = []
        for r in rows:
            for c in r:
                if c not in cols:
                    cols.append(c)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows(rows)
        return path

    return _write


def row(i: int, **over: str) -> dict[str, str]:
    base = {
        "id": f"r{i}",
        "title": f"Initiative number {i}",
        "description": f"A description of initiative {i} about topic {i * 7 % 13}.",
        "department": f"Department {i % 3}",
        "owner_name": f"Owner {i}",
        "owner_email": f"owner{i}@example.gc.ca",
        "status": "active",
        "start_date": "2022-04-01",
        "language": "en",
    }
    base.update(over)
    return base


@pytest.fixture(scope="session")
def use_encoder():
    """The real multilingual USE encoder, loaded once per run."""
    from dedupe.embed.encoder import get_encoder

    return get_encoder("use")


# --------------------------------------------------------------------------- a real browser
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; `playwright install` would download one
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium driven by Playwright (one browser per test module)."""
    if not CHROMIUM.exists():
        # `make test` installs it (sysdeps): its absence is a broken set-up, not a pass.
        pytest.fail("Debian chromium missing: run `make sysdeps`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
