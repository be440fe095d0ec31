"""The review store's database connection: a URL (SQLite by default, next to the index; or
PostgreSQL through psycopg 3) to a SQLAlchemy engine set up for short concurrent writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dedupe.errors import ReviewStoreError, UsageError

DB_NAME = "review.db"


def normalize_url(url: str) -> str:
    """Accept `postgresql://` / `postgres://` and pick the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def default_db_url(index: str | Path) -> str:
    """The SQLite file next to an index: `<index>/review.db`."""
    return f"sqlite:///{(Path(index) / DB_NAME).resolve()}"


def create_store_engine(url: str) -> Engine:
    """An engine for `url` (normalised); a malformed URL is a `UsageError`, one that cannot be
    opened a `ReviewStoreError`, both naming it (password hidden)."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError for a malformed URL
        raise UsageError(f"database URL {url!r} is not valid: {exc}") from None
    shown = parsed.render_as_string(hide_password=True)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        return create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError) as exc:
        raise ReviewStoreError(f"review store {shown}: cannot open: {exc}") from exc


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front: concurrent writers queue on busy_timeout instead of
        # failing on a read-to-write upgrade. Transactions here are short.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
