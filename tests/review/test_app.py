"""The review web app through FastAPI's TestClient: sessions, roles, CSRF, XSS, API tokens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dedupe import Detector, Proposal
from dedupe.embed.fake import FakeEncoder
from dedupe.errors import ConfigError
from dedupe.review.app import SESSION_COOKIE, create_app
from dedupe.review.settings import ReviewSettings
from dedupe.review.store import ReviewStore

from .webhelpers import csrf_of, pairs_on, sign_in

XSS = "<script>alert(1)</script>"  # in the hostile rows of the `mini_index` fixture
XSS_DEPT = "Department of <b>Markup</b>"


def test_nothing_but_sign_in_without_a_session(client_for) -> None:
    client = client_for()
    for path in (
        "/",
        "/departments",
        "/initiative/x-1",
        "/department/Health%20Canada",
        "/pairs/x-1/x-2",
        "/docs",
        "/admin/users",
    ):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/login").status_code == 200
    r = client.post(
        "/decide",
        data={
            "id_a": "x-1",
            "id_b": "x-2",
            "verdict": "overlap",
            "csrf_token": csrf_of(client.get("/login").text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_sign_in_sets_a_hardened_rotated_session(client_for, store: ReviewStore) -> None:
    client = client_for()
    before = csrf_of(client.get("/login").text)
    anon_cookie = client.cookies.get(SESSION_COOKIE)
    r = sign_in(client, "alice", "wrong password!")
    assert r.status_code == 401 and "wrong password" in r.text
    r = sign_in(client, "alice", next="/departments")
    assert r.status_code == 303 and r.headers["location"] == "/departments"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert client.cookies.get(SESSION_COOKIE) != anon_cookie
    after = csrf_of(client.get("/").text)
    assert after != before  # the CSRF token (and session id) rotate on sign-in
    r = client.get("/")
    assert "alice (reviewer)" in r.text
    assert r.headers["x-frame-options"] == "DENY"
    assert "nonce-" in r.headers["content-security-policy"]
    # sign out: the session is gone, even for a copy of the cookie
    copied = client.cookies.get(SESSION_COOKIE)
    r = client.post("/logout", data={"csrf_token": after}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303
    client.cookies.set(SESSION_COOKIE, copied)
    assert client.get("/", follow_redirects=False).status_code == 303
    # a form left open after signing out leads to the sign-in page, not to an error
    client.cookies.clear()
    r = client.post(
        "/decide",
        data={"id_a": "x-1", "id_b": "x-2", "verdict": "overlap", "csrf_token": after},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_new_password_ends_open_sessions(client_for, store: ReviewStore) -> None:
    client = client_for("alice")
    assert client.get("/", follow_redirects=False).status_code == 200
    store.set_password(name="alice", password="another long one")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_secure_cookie_flag_and_open_redirects(client_for) -> None:
    client = client_for(secure_cookies=True)
    client.base_url = "https://testserver"  # type: ignore[assignment]
    r = sign_in(client, "alice", next="//evil.example/steal")
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "secure" in r.headers["set-cookie"].lower()


def test_sign_in_attempts_are_rate_limited(client_for) -> None:
    client = client_for(login_attempts=3)
    for _ in range(3):
        assert sign_in(client, "bob", "not the password").status_code == 401
    r = sign_in(client, "bob")  # even the right password waits now
    assert r.status_code == 429 and "Too many" in r.text and int(r.headers["retry-after"]) > 0
    assert sign_in(client, "alice").status_code == 303  # a colleague at the same address is not


def test_an_address_trying_many_names_is_limited(client_for) -> None:
    client = client_for(login_attempts=2)  # per address: five times as many
    for n in range(10):
        assert sign_in(client, f"guess{n}", "not the password").status_code == 401
    assert sign_in(client, "alice").status_code == 429


def test_reviewer_decides_undoes_and_decided_pairs_leave_the_queue(
    client_for, store: ReviewStore
) -> None:
    client = client_for("alice")
    page = client.get("/").text
    first = pairs_on(page)[0]
    total = int(re.search(r"(\d+) pairs", page).group(1))  # type: ignore[union-attr]
    r = client.post(
        "/decide",
        data={
            "id_a": first[0],
            "id_b": first[1],
            "verdict": "overlap",
            "comment": "same team",
            "csrf_token": csrf_of(page),
            "next": "/?status=open&at=0",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/?status=open&at=0"
    page = client.get("/").text
    assert first not in pairs_on(page) and "Recorded: overlap" in page
    assert f"{total - 1} pairs" in page
    decided = client.get("/?status=decided").text
    assert pairs_on(decided) == [first] and "overlap by alice" in decided
    d = store.all_decisions()[-1]
    assert (d.user, d.comment, d.model_id) == ("alice", "same team", "fake-hashing-256")
    assert d.score is not None and d.score > 0.5 and len(d.text_hash_a) == 64

    r = client.post("/undo", data={"csrf_token": csrf_of(page), "next": "/"})
    assert r.status_code == 200 and first in pairs_on(r.text) and "Undone: overlap" in r.text
    assert [x.verdict for x in store.all_decisions()] == ["overlap", "revoked"]


def test_conflicting_reviewers_are_both_kept_and_shown(client_for, store: ReviewStore) -> None:
    alice, bob = client_for("alice"), client_for("bob")
    page = alice.get("/").text
    pair = pairs_on(page)[0]
    for client, verdict in ((alice, "duplicate"), (bob, "not_related")):
        token = csrf_of(client.get("/").text)
        client.post(
            "/decide",
            data={"id_a": pair[0], "id_b": pair[1], "verdict": verdict, "csrf_token": token},
        )
    page = alice.get("/?status=conflict").text
    assert pairs_on(page) == [pair]
    assert "conflict: duplicate by alice; not related by bob" in page
    assert pair in pairs_on(alice.get("/").text)  # open = undecided + conflict
    history = alice.get(f"/pair?a={pair[0]}&b={pair[1]}").text
    assert history.count("<td>alice</td>") == 1 and history.count("<td>bob</td>") == 1
    assert alice.get(f"/pairs/{pair[0]}/{pair[1]}").text.count("<td>bob</td>") == 1  # old address


def test_deciding_on_the_pair_page_confirms_there(client_for, store: ReviewStore) -> None:
    client = client_for("alice")
    page = client.get("/pair?a=x-2&b=x-1").text  # either order
    assert 'name="next" value="/pair?a=x-1&amp;b=x-2&at=0"' in page
    r = client.post(
        "/decide",
        data={
            "id_a": "x-1",
            "id_b": "x-2",
            "verdict": "overlap",
            "csrf_token": csrf_of(page),
            "next": "/pair?a=x-1&b=x-2&at=0",
        },
    )
    assert r.status_code == 200 and "Recorded: overlap for x-1 ~ x-2" in r.text
    assert "<td>alice</td>" in r.text


def test_browsers_get_error_pages_and_scripts_get_json(client_for) -> None:
    client = client_for("alice")
    html = {"accept": "text/html"}
    r = client.get("/no/such/page", headers=html)
    assert r.status_code == 404 and "<h1>404</h1>" in r.text and "Back to the queue" in r.text
    r = client.get("/?page=abc", headers=html)
    assert r.status_code == 400 and "page" in r.text and "<h1>400</h1>" in r.text
    assert client.get("/no/such/page").json() == {"detail": "Not Found"}
    assert client.get("/?page=abc").status_code == 422


def test_viewer_cannot_decide(client_for, store: ReviewStore) -> None:
    client = client_for("vera")
    page = client.get("/").text
    assert 'action="/decide"' not in page
    pair = pairs_on(page)[0]
    r = client.post(
        "/decide",
        data={"id_a": pair[0], "id_b": pair[1], "verdict": "overlap", "csrf_token": csrf_of(page)},
    )
    assert r.status_code == 403
    assert client.post("/undo", data={"csrf_token": csrf_of(page)}).status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert store.all_decisions() == []


def test_forms_without_the_csrf_token_are_refused(client_for, store: ReviewStore) -> None:
    client = client_for("alice")
    pair = pairs_on(client.get("/").text)[0]
    data = {"id_a": pair[0], "id_b": pair[1], "verdict": "overlap"}
    assert client.post("/decide", data=data).status_code == 403
    assert client.post("/decide", data={**data, "csrf_token": "forged"}).status_code == 403
    other = client_for("bob")  # another session's token is no good either
    stolen = csrf_of(other.get("/").text)
    assert client.post("/decide", data={**data, "csrf_token": stolen}).status_code == 403
    assert client.post("/undo", data={}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    assert store.all_decisions() == []


def test_script_in_a_description_is_shown_as_text(client_for) -> None:
    client = client_for("alice")
    for path in (
        f"/?department={XSS_DEPT}",
        "/initiative/x-1",
        "/pairs/x-1/x-2",
        "/department/Department%20of%20%3Cb%3EMarkup%3C%2Fb%3E",
    ):
        r = client.get(path)
        html = r.text
        assert r.status_code == 200, path
        assert XSS not in html and "<b>Markup</b>" not in html and "<i>Evil</i>" not in html, path
        assert "Department of &lt;b&gt;Markup&lt;/b&gt;" in html, path
        if not path.startswith("/department/"):  # pages that show descriptions
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        assert "javascript:alert(2)" not in html, path
    assert ("x-1", "x-2") in pairs_on(client.get(f"/?department={XSS_DEPT}").text)


def test_filters_by_department_tier_and_status(client_for) -> None:
    client = client_for("alice")
    everything = client.get("/?status=all").text
    dept = "Employment and Social Development Canada"
    only = client.get("/", params={"department": dept}).text
    assert 0 < len(pairs_on(only)) < len(pairs_on(everything))
    assert only.count(f">{dept}</a>") >= len(pairs_on(only))
    dup = client.get("/?tier=overlap").text
    assert "badge duplicate" not in dup and "badge overlap" in dup
    assert client.get("/?status=nonsense").status_code == 400
    # the queue shows pairs across departments unless asked for all
    total = lambda html: int(re.search(r"(\d+) pairs?", html).group(1))  # noqa: E731
    cross, both = client.get("/").text, client.get("/?scope=all").text
    marker = '<span class="muted">same department</span>'
    assert marker not in cross
    assert total(cross) < total(both)
    assert client.get("/?scope=mine").status_code == 400


def test_initiative_and_department_pages(client_for, store: ReviewStore) -> None:
    client = client_for("alice")
    token = csrf_of(client.get("/").text)
    client.post(
        "/decide",
        data={
            "id_a": "x-1",
            "id_b": "x-2",
            "verdict": "duplicate",
            "comment": "same portal",
            "csrf_token": token,
        },
    )
    page = client.get("/initiative/x-2").text
    assert "Fishing licence portal" in page and "same portal" in page
    assert "fred@example.gc.ca" in page
    page = client.get("/department/Fisheries%20and%20Oceans%20Canada").text
    assert "/initiative/x-2" in page and "duplicate by alice" in page
    assert client.get("/initiative/nope").status_code == 404
    assert client.get("/departments").status_code == 200
    assert client.get("/docs").status_code == 200
    assert "/api/check" in client.get("/openapi.json").text


def test_admin_adds_users_with_a_one_time_password(client_for, store: ReviewStore) -> None:
    client = client_for("ada")
    page = client.get("/admin/users").text
    r = client.post(
        "/admin/users", data={"name": "zoe", "role": "viewer", "csrf_token": csrf_of(page)}
    )
    password = re.search(r'<code id="new-password">([^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
    assert store.authenticate(name="zoe", password=password) is not None
    assert "new-password" not in client.get("/admin/users").text  # shown once
    client.post("/admin/users/zoe/active", data={"active": "false", "csrf_token": csrf_of(page)})
    assert store.authenticate(name="zoe", password=password) is None


def test_api_needs_a_token_and_matches_the_cli_json(
    client_for, store: ReviewStore, mini_index: Path
) -> None:
    client = client_for()
    assert client.get("/api/pairs").status_code == 401
    r = client.post("/api/check", json={"title": "x"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    bad = {"Authorization": "Bearer ddp_not-a-token"}
    assert client.get("/api/pairs", headers=bad).status_code == 401

    auth = {"Authorization": f"Bearer {store.add_token(user='alice')}"}
    viewer = {"Authorization": f"Bearer {store.add_token(user='vera')}"}
    body = {
        "title": "Fishing licence portal",
        "description": "Citizen portal for fishing licence renewals and payments online.",
    }
    r = client.post("/api/check", json=body, headers=auth)
    assert r.status_code == 200
    det = Detector.open(mini_index, encoder=FakeEncoder())
    assert r.json() == det.check(Proposal(**body)).to_json()
    assert client.post("/api/check", json={}, headers=auth).status_code == 422

    pairs = client.get("/api/pairs?limit=500", headers=viewer).json()
    first = pairs["pairs"][0]
    assert pairs["total"] == len(pairs["pairs"]) and first["status"] == "undecided"
    assert first["reason"] and all(p["reason"] is not None for p in pairs["pairs"])
    fast = client.get("/api/pairs?limit=5&reasons=false", headers=viewer).json()
    assert [p["reason"] for p in fast["pairs"]] == [None] * 5
    decision = {"id_a": first["id_b"], "id_b": first["id_a"], "verdict": "not related"}
    assert client.post("/api/decisions", json=decision, headers=viewer).status_code == 403
    r = client.post("/api/decisions", json=decision, headers=auth)
    assert r.status_code == 201 and r.json()["verdict"] == "not_related"
    assert r.json()["id_a"] == first["id_a"]
    after = client.get("/api/pairs?limit=500", headers=auth).json()
    assert after["total"] == pairs["total"] - 1
    decided = client.get("/api/pairs?status=decided", headers=auth).json()["pairs"]
    labels = [(p["id_a"], p["decision"]) for p in decided]
    assert labels == [(first["id_a"], "not related by alice")]
    bad_verdict = {**decision, "verdict": "maybe"}
    assert client.post("/api/decisions", json=bad_verdict, headers=auth).status_code == 422
    unknown = {**decision, "id_a": "no-such-id"}
    assert client.post("/api/decisions", json=unknown, headers=auth).status_code == 404


def test_a_secret_key_is_required_outside_dev(
    mini_index: Path, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEDUPE_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="DEDUPE_SECRET_KEY"):
        create_app(ReviewSettings(index=mini_index, db_url=db, encoder=FakeEncoder()))
    with pytest.raises(ConfigError, match="at least 32"):
        create_app(
            ReviewSettings(index=mini_index, db_url=db, secret_key="short", encoder=FakeEncoder())
        )
    from dedupe.review.settings import DEV_SECRET

    monkeypatch.setenv("DEDUPE_SECRET_KEY", DEV_SECRET)
    with pytest.raises(ConfigError, match="only accepted with --dev"):
        create_app(ReviewSettings(index=mini_index, db_url=db, encoder=FakeEncoder()))
    assert (
        create_app(ReviewSettings(index=mini_index, db_url=db, dev=True, encoder=FakeEncoder()))
        is not None
    )


def test_api_docs_page_needs_nothing_from_the_internet(client_for) -> None:
    client = client_for("alice")
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text and "https://" not in page.text.split("</title>")[1]
    for asset in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', page.text):
        assert client.get(asset).status_code == 200, asset
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "'self'" in page.headers["content-security-policy"]
