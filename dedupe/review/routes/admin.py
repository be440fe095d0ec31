"""User management for admins: list, add (generated password shown once), (de)activate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from dedupe.errors import UsageError
from dedupe.review.deps import AdminDep, CsrfChecked, StoreDep, TemplatesDep

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/users")
def users_page(
    request: Request, user: AdminDep, store: StoreDep, templates: TemplatesDep
) -> Response:
    return templates.TemplateResponse(
        request, "users.html", {"user": user, "users": store.users(), "created": "", "password": ""}
    )


@router.post("/users", dependencies=[CsrfChecked])
def add_user(
    request: Request,
    user: AdminDep,
    store: StoreDep,
    templates: TemplatesDep,
    name: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form()],
) -> Response:
    try:
        created, password = store.add_user(name=name, role=role)
    except UsageError as exc:
        raise HTTPException(400, str(exc)) from None
    # The generated password is shown in this response only; it is never stored in clear.
    return templates.TemplateResponse(
        request,
        "users.html",
        {"user": user, "users": store.users(), "created": created.name, "password": password},
    )


@router.post("/users/{name}/active", dependencies=[CsrfChecked])
def set_active(
    name: str,
    user: AdminDep,
    store: StoreDep,
    active: Annotated[bool, Form()],
) -> Response:
    if name == user.name and not active:
        raise HTTPException(400, "you cannot deactivate yourself")
    try:
        store.set_active(name=name, active=active)
    except UsageError as exc:
        raise HTTPException(404, str(exc)) from None
    return RedirectResponse("/admin/users", status_code=303)
