"""Authorisation on every route × role, and hostile text in every field the app shows.

The route table must list every route the app serves: a new route without a row fails
`test_the_table_covers_every_route`, so nobody can add a page and forget its rights.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from dedupe import Detector
from dedupe.embed.fake import FakeEncoder
from dedupe.review.store import ReviewStore

from .webhelpers import csrf_of

ROLES = ("anon", "viewer", "reviewer", "admin")
USER_OF = {"viewer": "vera", "reviewer": "alice", "admin": "ada"}
PAGE = {"anon": 303, "viewer": 200, "reviewer": 200, "admin": 200}  # 303 = to the sign-in page
DECIDE = {"anon": 303, "viewer": 403, "reviewer": 303, "admin": 303}
ADMIN = {"anon": 303, "viewer": 403, "reviewer": 403, "admin": 200}
API_READ = {"anon": 401, "viewer": 200, "reviewer": 200, "admin": 200}  # roles hold a token
API_WRITE = {"anon": 401, "viewer": 403, "reviewer": 201, "admin": 201}

PAIR = {"id_a": "x-1", "id_b": "x-2", "verdict": "overlap", "comment": "same portal"}

# (method, route path as the app declares it, concrete path, form or JSON body, expected by role)
ROUTES: list[tuple[str, str, str, dict[str, Any] | None, dict[str, int]]] = [
    ("GET", "/", "/", None, PAGE),
    ("GET", "/departments", "/departments", None, PAGE),
    ("GET", "/pair", "/pair?a=x-1&b=x-2", None, PAGE),
    ("GET", "/pairs/{id_a}/{id_b}", "/pairs/x-1/x-2", None, PAGE),
    ("GET", "/initiative/{id:path}", "/initiative/x-1", None, PAGE),
    ("GET", "/department/{name:path}", "/department/Fisheries%20and%20Oceans%20Canada", None, PAGE),
    ("GET", "/docs", "/docs", None, PAGE),
    (
        "GET",
        "/openapi.json",
        "/openapi.json",
        None,
        {"anon": 401, "viewer": 200, "reviewer": 200, "admin": 200},
    ),
    ("GET", "/login", "/login", None, {r: 200 for r in ROLES}),
    (
        "POST",
        "/login",
        "/login",
        {"name": "nobody", "password": "wrong password"},
        {r: 401 for r in ROLES},
    ),
    ("POST", "/logout", "/logout", {}, {r: 303 for r in ROLES}),
    ("POST", "/decide", "/decide", PAIR, DECIDE),
    ("POST", "/undo", "/undo", {}, DECIDE),
    ("GET", "/admin/users", "/admin/users", None, ADMIN),
    ("POST", "/admin/users", "/admin/users", {"name": "newbie", "role": "viewer"}, ADMIN),
    (
        "POST",
        "/admin/users/{name}/active",
        "/admin/users/bob/active",
        {"active": "false"},
        {**ADMIN, "admin": 303},
    ),
    ("POST", "/api/check", "/api/check", {"title": "Fishing licence portal"}, API_READ),
    ("GET", "/api/pairs", "/api/pairs", None, API_READ),
    ("POST", "/api/decisions", "/api/decisions", PAIR, API_WRITE),
]


def _declared_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route, including those of included routers."""
    found: set[tuple[str, str]] = set()

    def walk(routes: Any, prefix: str = "") -> None:
        for r in routes:
            inner = getattr(r, "original_router", None)
            if inner is not None:
                walk(inner.routes, prefix)
            elif hasattr(r, "methods") and r.methods:
                for m in r.methods - {"HEAD", "OPTIONS"}:
                    found.add((m, prefix + r.path))

    walk(app.routes)
    return found


def test_the_table_covers_every_route(make_app) -> None:
    declared = _declared_routes(make_app())
    listed = {(m, p) for m, p, *_ in ROUTES}
    assert declared - listed == set(), "routes without an authorisation row"
    assert listed - declared == set(), "rows for routes that no longer exist"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "route", "path", "body", "expected"), ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES]
)
def test_every_route_enforces_its_role(
    client_for: Callable[..., TestClient],
    store: ReviewStore,
    role: str,
    method: str,
    route: str,
    path: str,
    body: dict[str, Any] | None,
    expected: dict[str, int],
) -> None:
    if path.startswith("/api/"):
        # The JSON API takes tokens only: a signed-in browser session is not enough.
        client = client_for(USER_OF.get(role))
        headers = {}
        if role != "anon":
            assert client.request(method, path, json=body).status_code == 401
            headers = {"Authorization": f"Bearer {store.add_token(user=USER_OF[role])}"}
        r = client.request(method, path, json=body, headers=headers)
    else:
        client = client_for(USER_OF.get(role))
        data = None
        if method == "POST":
            token = csrf_of(client.get("/login").text)
            data = {**(body or {}), "csrf_token": token}
        r = client.request(method, path, data=data, follow_redirects=False)
    assert r.status_code == expected[role], f"{role} {method} {path}: {r.text[:200]}"
    if r.status_code == 303 and expected[role] == 303 and role == "anon" and path != "/logout":
        assert r.headers["location"].startswith("/login"), r.headers["location"]


# ------------------------------------------------------------------------------ hostile text
PAYLOADS = {
    "title": '<script>alert("title")</script>',
    "description": '<img src=x onerror=alert("description")>',
    "department": '<svg onload=alert("department")>',
    "owner_name": '"><iframe src=javascript:alert("owner")>',
    "comment": '</textarea><script>alert("comment")</script>',
}


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two near-identical initiatives whose every shown field carries markup."""
    root = tmp_path_factory.mktemp("hostile")
    src = root / "hostile.csv"
    text = (
        "Online portal for renewing fishing licences, paying fees and printing permits. "
        + PAYLOADS["description"]
    )
    with open(src, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(
            fh, fieldnames=["id", "title", "description", "department", "owner_name", "owner_email"]
        )
        w.writeheader()
        for rid, dept in (("x-1", PAYLOADS["department"]), ("x-2", "Fisheries and Oceans Canada")):
            w.writerow(
                {
                    "id": rid,
                    "title": "Fishing licences " + PAYLOADS["title"],
                    "description": text,
                    "department": dept,
                    "owner_name": PAYLOADS["owner_name"],
                    "owner_email": "o@example.gc.ca",
                }
            )
        w.writerow(
            {
                "id": "x-3",
                "title": "Weather radar archive",
                "description": "Archive of national weather radar imagery for researchers.",
                "department": "Environment Canada",
                "owner_name": "Wes",
                "owner_email": "w@example.gc.ca",
            }
        )
    path = root / "ix"
    Detector.ingest(path, [src], encoder=FakeEncoder())
    return path


@pytest.fixture
def app_index(hostile_index: Path) -> Path:  # overrides the conftest's mini portfolio
    return hostile_index


@pytest.fixture
def app_queue() -> None:
    return None


def test_markup_in_every_shown_field_is_escaped(
    client_for: Callable[..., TestClient], store: ReviewStore
) -> None:
    client = client_for("alice")
    page = client.get("/?status=all").text
    assert 'data-pair="x-1|x-2"' in page, "the hostile pair must be on the queue to be tested"
    r = client.post(
        "/decide",
        data={**PAIR, "comment": PAYLOADS["comment"], "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    pages = [
        "/?status=all",
        "/?status=decided",
        "/pair?a=x-1&b=x-2",
        "/initiative/x-1",
        "/initiative/x-2",
        "/departments",
        "/department/" + quote(PAYLOADS["department"]),
        "/?department=" + quote(PAYLOADS["department"]),
    ]
    shown: set[str] = set()
    for path in pages:
        r = client.get(path)
        assert r.status_code == 200, path
        for field, payload in PAYLOADS.items():
            assert payload not in r.text, f"{field} reached {path} unescaped"
            if str(escape(payload)) in r.text:  # shown, as text
                shown.add(field)
    assert shown == set(PAYLOADS), f"fields never shown (so never tested): {set(PAYLOADS) - shown}"
