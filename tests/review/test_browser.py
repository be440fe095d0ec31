"""Chromium (Debian's, through Playwright) drives the review app served by uvicorn."""

from __future__ import annotations

import os
from typing import Any

import pytest

from dedupe.review.store import ReviewStore

from .webhelpers import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page: Any, base: str, name: str) -> None:
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def cards(page: Any) -> list[str]:
    return [c.get_attribute("data-pair") for c in page.query_selector_all("section.pair")]


def press(page: Any, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def test_review_with_the_keyboard(live: tuple[str, ReviewStore], chromium: Any) -> None:
    base, store = live
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, base, "alice")
    assert page.url == base + "/" and page.is_visible("text=alice (reviewer)")

    page.select_option("#f-tier", "duplicate")
    with page.expect_navigation():
        page.click("#apply-filters")
    assert "tier=duplicate" in page.url
    assert page.locator(".pair .badge.overlap").count() == 0
    p0, p1, p2, p3 = cards(page)[:4]
    if os.environ.get("DEDUPE_SCREENSHOT"):  # docs/queue.png for the README
        page.goto(base + "/?department=Employment+and+Social+Development+Canada")
        page.screenshot(path=os.environ["DEDUPE_SCREENSHOT"])
        page.go_back()

    press(page, "d")  # first card: duplicate; the next card slides into its place
    assert "Recorded: duplicate" in page.inner_text("#flash")
    assert cards(page)[:2] == [p1, p2]
    page.keyboard.press("j")  # move to the second card (p2) ...
    assert page.get_attribute("section.pair.current", "data-pair") == p2
    press(page, "o")  # ... overlap
    assert cards(page)[:2] == [p1, p3]
    assert page.get_attribute("section.pair.current", "data-pair") == p3
    page.keyboard.press("k")  # back up to p1
    press(page, "n")  # not related
    assert p1 not in cards(page)
    press(page, "u")  # undo my last decision: p1 is back
    assert "Undone: not related" in page.inner_text("#flash")
    assert p1 in cards(page) and p0 not in cards(page) and p2 not in cards(page)

    page.goto(base + "/?status=open")
    open_pairs = cards(page)
    assert p0 not in open_pairs and p2 not in open_pairs and p1 in open_pairs
    page.goto(base + "/?status=decided")
    assert set(cards(page)) == {p0, p2}
    verdicts = [(d.verdict, f"{d.id_a}|{d.id_b}") for d in store.all_decisions()]
    assert verdicts == [("duplicate", p0), ("overlap", p2), ("not_related", p1), ("revoked", p1)]

    page.goto(base + "/initiative/x-1")  # a hostile description is shown as text, not run
    assert "<script>alert(1)</script>" in page.inner_text("p.desc")
    assert dialogs == []

    with page.expect_navigation():
        page.click("#sign-out")
    assert "/login" in page.url
    page.goto(base + "/")
    assert "/login" in page.url
    page.close()


def test_a_viewer_sees_no_decide_controls(live: tuple[str, ReviewStore], chromium: Any) -> None:
    base, store = live
    page = chromium.new_page()
    sign_in(page, base, "vera")
    assert page.locator("section.pair").count() > 0
    assert page.locator("form.decide").count() == 0
    page.keyboard.press("d")
    page.keyboard.press("u")
    page.wait_for_timeout(200)
    assert store.all_decisions() == []
    page.close()


def test_api_docs_render_from_local_files(live: tuple[str, ReviewStore], chromium: Any) -> None:
    base, _store = live
    page = chromium.new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
    sign_in(page, base, "alice")
    page.goto(base + "/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "dedupe review" in page.inner_text(".swagger-ui .info .title")
    assert "/api/check" in page.inner_text(".swagger-ui")
    assert outside == []
    page.close()


def test_keys_act_on_the_card_one_is_typing_in(
    live: tuple[str, ReviewStore], chromium: Any
) -> None:
    base, store = live
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, base, "alice")
    third = cards(page)[2]
    box = page.locator("section.pair").nth(2).locator("textarea[name=comment]")
    box.fill("same vendor, ask the owners")
    box.press("Enter")  # a new line in the reason, not a verdict
    page.wait_for_timeout(300)
    assert store.all_decisions() == []
    assert box.input_value() == "same vendor, ask the owners\n"
    box.press("Tab")  # to that card's first button: the keys now act on this card
    assert page.get_attribute("section.pair.current", "data-pair") == third
    press(page, "n")
    (d,) = store.all_decisions()
    assert (f"{d.id_a}|{d.id_b}", d.verdict, d.comment) == (
        third,
        "not_related",
        "same vendor, ask the owners",
    )
    assert "Recorded: not related" in page.inner_text("#flash")
    fourth = cards(page)[3]
    page.locator("section.pair").nth(3).locator("p.desc").first.click()  # plain text, too
    assert page.get_attribute("section.pair.current", "data-pair") == fourth
    page.set_viewport_size({"width": 375, "height": 800})  # a phone: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.close()
