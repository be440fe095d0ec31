"""JSON API for intake systems and scripts (bearer tokens from `dedupe tokens add NAME`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from dedupe.errors import UsageError
from dedupe.proposals import proposal_from_fields
from dedupe.review.deps import ApiReviewer, ApiUser, QueueDep, StoreDep
from dedupe.review.queue import parse_status
from dedupe.review.routes.queue import decide_pair

router = APIRouter(prefix="/api", tags=["api"])


class CheckRequest(BaseModel):
    """A proposal, as `dedupe check` takes it."""

    title: str = Field("", max_length=1000)
    description: str = Field("", max_length=100_000)
    department: str = Field("", max_length=500)
    language: str = Field("", max_length=10)
    limit: int = Field(10, ge=1, le=200)


class DecisionRequest(BaseModel):
    id_a: str = Field(min_length=1, max_length=255)
    id_b: str = Field(min_length=1, max_length=255)
    verdict: str = Field(description="duplicate, overlap or not_related")
    comment: str = Field("", max_length=4000)


@router.post("/check", summary="Check a proposal (same JSON as `dedupe check --json`)")
def api_check(body: CheckRequest, user: ApiUser, queue: QueueDep) -> dict[str, Any]:
    # A proposal is not an indexed initiative (it has no id), so no review decision can name
    # it: the store's decisions are not read here (they were, on every request).
    try:
        proposal = proposal_from_fields(
            body.title, body.description, body.department, body.language
        )
    except UsageError as exc:
        raise HTTPException(422, str(exc)) from None
    return queue.detector.check(proposal, limit=body.limit).to_json()


@router.get("/pairs", summary="Flagged pairs, highest score first")
def api_pairs(
    user: ApiUser,
    store: StoreDep,
    queue: QueueDep,
    status: str = Query("open", description="open, undecided, conflict, decided or all"),
    department: str | None = None,
    tier: str | None = Query(None, description="duplicate or overlap"),
    limit: int = Query(100, ge=1, le=10_000),
    reasons: bool = Query(True, description="Fill in each pair's reason (false: faster)"),
    scope: str = Query("all", description="all, or cross: pairs of two departments only"),
) -> dict[str, Any]:
    if scope not in ("cross", "all"):
        raise HTTPException(422, f"scope {scope!r}: expected cross or all")
    try:
        items = queue.items(
            store.latest_decisions(queue.current_hashes),
            department=department,
            tier=tier,
            status=parse_status(status),
            cross_only=scope == "cross",
        )
    except UsageError as exc:
        raise HTTPException(422, str(exc)) from None
    shown = queue.explain(items[:limit]) if reasons else items[:limit]
    return {"total": len(items), "pairs": [i.to_json() for i in shown]}


@router.post("/decisions", status_code=201, summary="Record a decision on a pair")
def api_decide(
    body: DecisionRequest, user: ApiReviewer, store: StoreDep, queue: QueueDep
) -> dict[str, Any]:
    try:
        d = decide_pair(
            store,
            queue,
            id_a=body.id_a,
            id_b=body.id_b,
            verdict=body.verdict,
            user=user.name,
            comment=body.comment,
        )
    except UsageError as exc:
        raise HTTPException(422, str(exc)) from None
    return d.to_json()
