"""Read-only pages: one pair, one initiative (its matches and decisions), one department."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from dedupe.match.owners import owners_of
from dedupe.records import pair_key
from dedupe.review.deps import CurrentUser, QueueDep, StoreDep, TemplatesDep
from dedupe.review.queue import QueueItem, ReviewQueue, Status
from dedupe.review.routes.queue import pop_flash
from dedupe.review.store import ReviewStore, User

router = APIRouter(include_in_schema=False)


def pair_url(id_a: str, id_b: str) -> str:
    """The pair page's address; ids go in the query, so an id may hold any character ("/")."""
    return "/pair?" + urlencode({"a": id_a, "b": id_b})


@router.get("/pair")
def pair_page(
    request: Request,
    user: CurrentUser,
    store: StoreDep,
    queue: QueueDep,
    templates: TemplatesDep,
    id_a: Annotated[str, Query(alias="a")],
    id_b: Annotated[str, Query(alias="b")],
) -> Response:
    return _pair_page(request, user, store, queue, templates, id_a, id_b)


@router.get("/pairs/{id_a}/{id_b}")
def pair_page_by_path(
    request: Request,
    id_a: str,
    id_b: str,
    user: CurrentUser,
    store: StoreDep,
    queue: QueueDep,
    templates: TemplatesDep,
) -> Response:
    """The address of earlier versions (ids without "/")."""
    return _pair_page(request, user, store, queue, templates, id_a, id_b)


def _pair_page(
    request: Request,
    user: User,
    store: ReviewStore,
    queue: ReviewQueue,
    templates: Jinja2Templates,
    id_a: str,
    id_b: str,
) -> Response:
    a, b = queue.record(id_a), queue.record(id_b)
    if a is None or b is None:
        raise HTTPException(404, f"no initiative {id_a if a is None else id_b!r} in the index")
    key = pair_key(id_a, id_b)
    if (a.id, b.id) != key:
        a, b = b, a
    pair = queue.pair(*key)
    decisions = store.latest_decisions(queue.current_hashes)
    history = [d for d in store.decisions_for(key[0]) if d.key == key]
    item = None
    if pair is not None:
        item = queue.explain([QueueItem(pair, a, b, decisions.get(key))])[0]
    return templates.TemplateResponse(
        request,
        "pair.html",
        {
            "user": user,
            "item": item,
            "a": a,
            "b": b,
            "history": history,
            "here": pair_url(*key),
            "at": 0,
            "flash": pop_flash(request),
        },
    )


@router.get("/initiative/{id:path}")
def initiative_page(
    request: Request,
    id: str,
    user: CurrentUser,
    store: StoreDep,
    queue: QueueDep,
    templates: TemplatesDep,
) -> Response:
    record = queue.record(id)
    if record is None:
        raise HTTPException(404, f"no initiative {id!r} in the index")
    decisions = store.latest_decisions(queue.current_hashes)
    items = queue.items(decisions, status=Status.ALL, involving=id)
    return templates.TemplateResponse(
        request,
        "initiative.html",
        {
            "user": user,
            "record": record,
            "owners": owners_of(record),
            "items": items,
            "history": store.decisions_for(id),
        },
    )


@router.get("/department/{name:path}")
def department_page(
    request: Request,
    name: str,
    user: CurrentUser,
    store: StoreDep,
    queue: QueueDep,
    templates: TemplatesDep,
) -> Response:
    if name not in queue.departments():
        raise HTTPException(404, f"no department {name!r} in the index")
    decisions = store.latest_decisions(queue.current_hashes)
    items = queue.items(decisions, department=name, status=Status.ALL)
    records = sorted(
        (r for r in queue.detector.records if r.department == name), key=lambda r: r.title.lower()
    )
    return templates.TemplateResponse(
        request,
        "department.html",
        {"user": user, "name": name, "items": items, "records": records},
    )


@router.get("/departments")
def departments_page(
    request: Request, user: CurrentUser, queue: QueueDep, templates: TemplatesDep
) -> Response:
    return templates.TemplateResponse(
        request, "departments.html", {"user": user, "departments": queue.departments()}
    )
