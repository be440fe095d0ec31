"""SQLAlchemy 2 table models of the review store. The schema itself is owned by the migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (
        CheckConstraint("role in ('viewer', 'reviewer', 'admin')", name="ck_users_role"),
    )


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class WebSessionRow(Base):
    """A signed-in browser session. The cookie carries only its id; signing out, a new
    password or deactivation ends it here, so a copied cookie stops working at once."""

    __tablename__ = "web_sessions"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_web_sessions_user", "user_id"),)


class DecisionRow(Base):
    """One row per act: a verdict on a pair, or the revocation (undo) of an earlier verdict.

    Rows are only ever inserted: a changed mind is a new row, an undo is a `revoked` row that
    points at the verdict it withdraws (`revokes_id`, unique: a verdict is withdrawn at most once).
    """

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_a: Mapped[str] = mapped_column(String(255), nullable=False)
    id_b: Mapped[str] = mapped_column(String(255), nullable=False)
    verdict: Mapped[str] = mapped_column(String(20), nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    user_name: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    model_id: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    text_hash_a: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    text_hash_b: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    revokes_id: Mapped[int | None] = mapped_column(
        ForeignKey("decisions.id"), nullable=True, unique=True
    )

    __table_args__ = (
        CheckConstraint(
            "verdict in ('duplicate', 'overlap', 'not_related', 'revoked')",
            name="ck_decisions_verdict",
        ),
        Index("ix_decisions_pair", "id_a", "id_b"),
        Index("ix_decisions_user", "user_name", "id"),
    )
