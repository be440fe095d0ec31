"""Sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dedupe.review.deps import (
    CsrfChecked,
    LimiterDep,
    StoreDep,
    TemplatesDep,
    end_session,
    safe_next,
    start_session,
)

router = APIRouter(include_in_schema=False)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_page(request: Request, templates: TemplatesDep, next: str = "/") -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"next": safe_next(next), "error": "", "user": None, "name": ""}
    )


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    store: StoreDep,
    templates: TemplatesDep,
    limiter: LimiterDep,
    name: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    ip = _client_ip(request)
    wait = limiter.blocked(ip, name)
    if wait > 0:
        return templates.TemplateResponse(
            request,
            "login.html",
            {
                "next": safe_next(next),
                "user": None,
                "name": name,
                "error": f"Too many failed attempts. Try again in {int(wait) + 1} s.",
            },
            status_code=429,
            headers={"Retry-After": str(int(wait) + 1)},
        )
    user = store.authenticate(name=name, password=password)
    if user is None:
        limiter.failed(ip, name)
        return templates.TemplateResponse(
            request,
            "login.html",
            {
                "next": safe_next(next),
                "user": None,
                "name": name,
                "error": "Unknown user name or wrong password.",
            },
            status_code=401,
        )
    limiter.succeeded(ip, name)
    start_session(request, store, user)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, store: StoreDep) -> Response:
    end_session(request, store)
    return RedirectResponse("/login", status_code=303)
