"""idempotency_purge_index: index idempotency_keys.created_at for the purge of expired keys

Without it the scheduler's ``incidents.purge_idempotency_keys`` job scans the whole table while
holding the write lock (SQLite) every time it runs.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
