"""report.html in headless Chromium (Debian's, through Playwright): opened from disk, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from report_helpers import alpha_rows, beta_rows, night, rec, write_sources

from dedupe.embed.fake import FakeEncoder
from dedupe.report import load_sources, run_report

pytestmark = pytest.mark.browser
XSS_TITLE = "<script>alert('x')</script> Email transformation"


def test_report_opens_from_disk_with_heat_map_new_pairs_and_escaped_titles(
    tmp_path: Path, chromium: Any
) -> None:
    fake = FakeEncoder()
    write_sources(tmp_path, alpha_rows(), beta_rows())

    def run(n: int):  # type: ignore[no-untyped-def]
        specs = load_sources(tmp_path / "sources.toml")
        return run_report(tmp_path / "ix", specs, tmp_path / "r", encoder=fake, now=night(n))

    run(0)
    beta = beta_rows() + [rec("g1", XSS_TITLE, alpha_rows()[0]["description"], "Gamma <b>Group")]
    write_sources(tmp_path, alpha_rows(), beta)
    folder = run(1).folder

    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto((folder / "report.html").as_uri())

    assert page.is_visible("#heatmap") and page.is_visible("#barchart")
    assert page.locator("#heatmap rect").count() == 9  # 3 departments × 3
    assert "Gamma <b>Group" in page.text_content("#heatmap")
    new_rows = page.locator("#new-pairs tr.pair")
    assert new_rows.count() == 2  # g1 with a1 and with b1; a1-b1 and a2-b2 persist
    assert XSS_TITLE in new_rows.first.inner_text()  # shown as text, never run
    headline = page.inner_text("#headline")
    assert "10\ninitiatives" in headline and "2\nnew since last run" in headline
    assert page.locator("#all-pairs tr.pair").count() == 4
    assert dialogs == []
    assert all(u.startswith("file://") for u in requests), requests  # nothing from a network

    # On a phone the page is as wide as the screen: wide tables and charts scroll in their box.
    phone = chromium.new_page(viewport={"width": 375, "height": 740})
    phone.goto((folder / "report.html").as_uri())
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    heat = phone.locator("#heatmap-section .scroll").first
    assert heat.evaluate("e => e.scrollWidth > e.clientWidth")  # the heat map scrolls inside
    assert phone.evaluate("getComputedStyle(document.querySelector('.scroll')).overflowX") == "auto"
