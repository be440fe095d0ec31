"""Initial schema: users, api_tokens, decisions (append-only).

Revision ID: 0001
Revises:
Create Date: 2024-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role in ('viewer', 'reviewer', 'admin')", name="ck_users_role"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("id_a", sa.String(255), nullable=False),
        sa.Column("id_b", sa.String(255), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("model_id", sa.String(255), nullable=False),
        sa.Column("text_hash_a", sa.String(64), nullable=False),
        sa.Column("text_hash_b", sa.String(64), nullable=False),
        sa.Column(
            "revokes_id", sa.Integer(), sa.ForeignKey("decisions.id"), nullable=True, unique=True
        ),
        sa.CheckConstraint(
            "verdict in ('duplicate', 'overlap', 'not_related', 'revoked')",
            name="ck_decisions_verdict",
        ),
    )
    op.create_index("ix_decisions_pair", "decisions", ["id_a", "id_b"])
    op.create_index("ix_decisions_user", "decisions", ["user_name", "id"])


def downgrade() -> None:
    op.drop_index("ix_decisions_user", table_name="decisions")
    op.drop_index("ix_decisions_pair", table_name="decisions")
    op.drop_table("decisions")
    op.drop_table("api_tokens")
    op.drop_table("users")
