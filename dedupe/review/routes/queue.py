"""The queue page, deciding a pair and undoing one's last decision."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from dedupe.errors import UsageError
from dedupe.review.deps import (
    CsrfChecked,
    CurrentUser,
    QueueDep,
    ReviewerDep,
    SettingsDep,
    StoreDep,
    TemplatesDep,
    safe_next,
)
from dedupe.review.queue import ReviewQueue, parse_status
from dedupe.review.store import Decision, ReviewStore, Verdict, parse_verdict

router = APIRouter(include_in_schema=False)


def flash(request: Request, message: str) -> None:
    request.session["flash"] = message


def pop_flash(request: Request) -> str:
    message = request.session.pop("flash", "")
    return message if isinstance(message, str) else ""


@router.get("/")
def queue_page(
    request: Request,
    user: CurrentUser,
    store: StoreDep,
    queue: QueueDep,
    templates: TemplatesDep,
    settings: SettingsDep,
    department: str = "",
    tier: str = "",
    status: str = "open",
    scope: str = "cross",
    page: int = 1,
    at: int = 0,
) -> Response:
    if scope not in ("cross", "all"):
        raise HTTPException(400, f"scope {scope!r}: expected cross or all")
    try:
        st = parse_status(status)
        decisions = store.latest_decisions(queue.current_hashes)
        items = queue.items(
            decisions,
            department=department or None,
            tier=tier or None,
            status=st,
            cross_only=scope == "cross",
        )
    except UsageError as exc:
        raise HTTPException(400, str(exc)) from None
    size = settings.page_size
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 1), pages)
    shown = queue.explain(items[(page - 1) * size : page * size])
    filters = {"department": department, "tier": tier, "status": st.value, "scope": scope}
    here = "/?" + urlencode({**filters, "page": page})
    return templates.TemplateResponse(
        request,
        "queue.html",
        {
            "user": user,
            "items": shown,
            "total": len(items),
            "page": page,
            "pages": pages,
            "filters": filters,
            "departments": queue.departments(),
            "here": here,
            "at": min(max(at, 0), max(len(shown) - 1, 0)),
            "flash": pop_flash(request),
            "page_url": lambda n: "/?" + urlencode({**filters, "page": n}),
        },
    )


def decide_pair(
    store: ReviewStore,
    queue: ReviewQueue,
    *,
    id_a: str,
    id_b: str,
    verdict: str,
    user: str,
    comment: str,
) -> Decision:
    """Record a decision with the pair's current score, model and text hashes."""
    v: Verdict = parse_verdict(verdict)
    a, b = queue.record(id_a), queue.record(id_b)
    if a is None or b is None:
        missing = id_a if a is None else id_b
        raise HTTPException(404, f"no initiative {missing!r} in the index")
    pair = queue.pair(id_a, id_b)
    hashes = queue.current_hashes
    return store.record_decision(
        id_a=id_a,
        id_b=id_b,
        verdict=v,
        user=user,
        comment=comment,
        score=pair.score if pair else None,
        model_id=queue.detector.encoder.model_id,
        text_hash_a=hashes[id_a],
        text_hash_b=hashes[id_b],
    )


@router.post("/decide", dependencies=[CsrfChecked])
def decide(
    request: Request,
    user: ReviewerDep,
    store: StoreDep,
    queue: QueueDep,
    id_a: Annotated[str, Form()],
    id_b: Annotated[str, Form()],
    verdict: Annotated[str, Form()],
    comment: Annotated[str, Form(max_length=4000)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        d = decide_pair(
            store, queue, id_a=id_a, id_b=id_b, verdict=verdict, user=user.name, comment=comment
        )
    except UsageError as exc:
        raise HTTPException(400, str(exc)) from None
    flash(
        request,
        f"Recorded: {d.verdict.replace('_', ' ')} for {d.id_a} ~ {d.id_b}. Press u to undo.",
    )
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/undo", dependencies=[CsrfChecked])
def undo(
    request: Request,
    user: ReviewerDep,
    store: StoreDep,
    next: Annotated[str, Form()] = "/",
) -> Response:
    d = store.undo_last(user.name)
    flash(
        request,
        f"Undone: {d.verdict.replace('_', ' ')} for {d.id_a} ~ {d.id_b}."
        if d
        else "Nothing to undo.",
    )
    return RedirectResponse(safe_next(next), status_code=303)
