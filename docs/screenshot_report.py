"""Screenshot of a report for the README: `python docs/screenshot_report.py REPORT.html OUT.png`.

Uses Debian's chromium through Playwright (no browser download); the top of the page: headline
figures, what is new, the heat map and the bar chart.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
ARGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main(report: str, out: str, width: int = 1280, height: int = 1500) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(Path(report).resolve().as_uri())
        page.screenshot(path=out, type="png")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
