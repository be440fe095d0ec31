"""Typed FastAPI dependencies: the store, the queue, the signed-in user and their rights."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates

from dedupe.review.queue import ReviewQueue
from dedupe.review.security import LoginLimiter
from dedupe.review.settings import ReviewSettings
from dedupe.review.store import ReviewStore, User

CSRF_FIELD = "csrf_token"


class NotSignedIn(Exception):
    """Raised by page dependencies without a session; the app redirects to the sign-in page."""


async def get_store(request: Request) -> ReviewStore:
    # The dependencies that only read the app's state are `async def`: FastAPI runs a plain
    # `def` dependency on a worker thread, a hand-off per dependency per request.
    store: ReviewStore = request.app.state.store
    return store


async def get_queue(request: Request) -> ReviewQueue:
    queue: ReviewQueue = request.app.state.queue
    return queue


async def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


async def get_settings(request: Request) -> ReviewSettings:
    settings: ReviewSettings = request.app.state.settings
    return settings


async def get_limiter(request: Request) -> LoginLimiter:
    limiter: LoginLimiter = request.app.state.limiter
    return limiter


StoreDep = Annotated[ReviewStore, Depends(get_store)]
QueueDep = Annotated[ReviewQueue, Depends(get_queue)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
SettingsDep = Annotated[ReviewSettings, Depends(get_settings)]
LimiterDep = Annotated[LoginLimiter, Depends(get_limiter)]


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use; rotated on sign-in)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def start_session(request: Request, store: ReviewStore, user: User) -> None:
    """A fresh session for a signed-in user: new id and new CSRF token (no fixation). The id is
    recorded in the store, so that signing out ends it even if the cookie was copied."""
    request.session.clear()
    request.session.update({"sid": store.start_session(user.id), "csrf": secrets.token_urlsafe(32)})


def end_session(request: Request, store: ReviewStore) -> None:
    sid = request.session.get("sid")
    if isinstance(sid, str) and sid:
        store.end_session(sid)
    request.session.clear()


def current_user(request: Request, store: StoreDep, settings: SettingsDep) -> User:
    sid = request.session.get("sid")
    user = store.session_user(sid, settings.session_max_age) if isinstance(sid, str) else None
    if user is None:
        request.session.pop("sid", None)
        raise NotSignedIn()
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def require_reviewer(user: CurrentUser) -> User:
    if not user.role.can_decide:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"{user.name} is a {user.role.value}: only reviewers and admins can decide",
        )
    return user


async def require_admin(user: CurrentUser) -> User:
    if not user.role.can_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only admins manage users")
    return user


ReviewerDep = Annotated[User, Depends(require_reviewer)]
AdminDep = Annotated[User, Depends(require_admin)]


async def verify_csrf(request: Request) -> None:
    """Every form POST carries the session's CSRF token in a hidden field. A post from a page
    whose session has ended (signed out, expired) goes to the sign-in page instead."""
    if request.url.path != "/login" and not request.session.get("sid"):
        raise NotSignedIn()
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if (
        not isinstance(sent, str)
        or not isinstance(expected, str)
        or not hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token: reload the page and try again"
        )


CsrfChecked = Depends(verify_csrf)

_bearer = HTTPBearer(auto_error=False, description="API token from `dedupe tokens add NAME`")


def api_user(
    store: StoreDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    user = store.user_for_token(creds.credentials) if creds is not None else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid API token is required (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


ApiUser = Annotated[User, Depends(api_user)]


async def api_reviewer(user: ApiUser) -> User:
    if not user.role.can_decide:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{user.name} may not decide")
    return user


ApiReviewer = Annotated[User, Depends(api_reviewer)]


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths are followed after a form post (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
