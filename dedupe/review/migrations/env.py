"""Alembic environment: always called with a live connection from `dedupe.review.store`."""

from __future__ import annotations

from alembic import context

from dedupe.review.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through the alembic CLI
    raise RuntimeError("run migrations through dedupe.review.store.ReviewStore.open(url)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
