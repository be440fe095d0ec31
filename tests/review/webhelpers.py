"""Helpers for driving the review app through FastAPI's TestClient."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

SECRET = "test-secret-" + "x" * 40
PASSWORD = "a long enough password"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no CSRF field"
    return found.group(1)


def pairs_on(html: str) -> list[tuple[str, str]]:
    found = re.findall(r'data-pair="([^"]+)"', html)
    return [tuple(m.split("|")) for m in found]  # type: ignore[misc]


def sign_in(client: TestClient, name: str, password: str = PASSWORD, next: str = "/"):
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": next},
        follow_redirects=False,
    )
