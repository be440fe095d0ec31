"""The review web app: `create_app(settings)` builds a fresh FastAPI app (no module globals).

    app = create_app(ReviewSettings(index=Path("indexes/gc")))   # uvicorn.run(app)

Server-rendered Jinja2 pages (autoescaped) for people signed in with a session cookie, and a JSON
API under /api for machine clients with bearer tokens.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from dedupe.detector import require_index
from dedupe.review.deps import CurrentUser, NotSignedIn, csrf_token
from dedupe.review.headers import SecurityHeaders
from dedupe.review.queue import ReviewQueue, highlight
from dedupe.review.routes import admin, api, auth, pages
from dedupe.review.routes import queue as queue_routes
from dedupe.review.security import LoginLimiter
from dedupe.review.settings import ReviewSettings
from dedupe.review.store import open_store

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "dedupe_session"


def _templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "xml"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["highlight"] = highlight
    env.globals["pair_url"] = pages.pair_url

    def _context(request: Request) -> dict[str, Any]:
        return {"csrf_token": csrf_token(request), "nonce": getattr(request.state, "nonce", "")}

    return Jinja2Templates(env=env, context_processors=[_context])


def create_app(settings: ReviewSettings, *, queue: ReviewQueue | None = None) -> FastAPI:
    """A new app bound to one index and one review store.

    `queue` lets several apps share one already-computed queue of the same index (tests).
    """
    secret = settings.resolved_secret()
    index = require_index(settings.index)
    store = open_store(settings.db_url, index=index)
    review_queue = queue or ReviewQueue(index, encoder=settings.encoder)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Compute the flagged pairs before the first request instead of during it.
        await anyio.to_thread.run_sync(review_queue.warm)
        try:
            yield
        finally:
            store.close()

    app = FastAPI(
        title="dedupe review",
        summary="Decide flagged pairs of initiatives; check proposals from intake systems.",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.queue = review_queue
    app.state.templates = _templates()
    app.state.limiter = LoginLimiter(settings.login_attempts, settings.login_window)

    for module in (auth, queue_routes, pages, admin, api):
        app.include_router(module.router)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_user: CurrentUser) -> JSONResponse:
        return JSONResponse(app.openapi())

    # Swagger UI's files come from the `swagger-ui-py` package, not a CDN: the API page works
    # offline and the user's browser contacts nothing but this app.
    app.mount("/docs/assets", StaticFiles(directory=_swagger_ui_dir()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs(_user: CurrentUser) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="dedupe review API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )

    @app.exception_handler(NotSignedIn)
    async def _to_sign_in(request: Request, _exc: NotSignedIn) -> Response:
        if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    def _error(request: Request, status: int, detail: Any, headers: Any = None) -> Response:
        """JSON for the API and for clients that do not ask for HTML; a page for browsers."""
        if request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
            "accept", ""
        ):
            return JSONResponse({"detail": detail}, status_code=status, headers=headers)
        templates: Jinja2Templates = request.app.state.templates
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "detail": detail, "user": None},
            status_code=status,
            headers=headers,
        )

    # Starlette's class: its 404/405 for unknown addresses are caught too, not only ours.
    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        if "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        return _error(request, 400, f"bad request ({where})")

    app.add_middleware(SecurityHeaders)
    # Added last = outermost: the session exists for every other middleware and route.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    return app


def _swagger_ui_dir() -> str:
    """Swagger UI 5 (OpenAPI 3.1, as FastAPI writes it) as shipped in `swagger-ui-py`."""
    import swagger_ui

    return os.path.join(os.path.dirname(swagger_ui.__file__), "static")
