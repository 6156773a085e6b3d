"""The deliveries still owed to a handler: ``ix_domain_event_deliveries_owed``, a partial index on
``domain_event_deliveries (event_id) WHERE status <> 'done'``.

The hourly purge of delivered events (``core.events.purge``) keeps an event while one of its
deliveries is not ``done``. Once nearly every delivery is done, PostgreSQL judged probing the
unique ``(event_id, handler)`` index per old event dearer than reading the whole deliveries table
once (200,000 delivered events: a sequential scan of every delivery at each purge). This index
holds only the few owed deliveries, so the check is a probe of a small index whatever the size of
the history.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-06 11:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0044"
down_revision: str | None = "0043"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWED = sa.text("status <> 'done'")


def upgrade() -> None:
    op.create_index(
        "ix_domain_event_deliveries_owed",
        "domain_event_deliveries",
        ["event_id"],
        postgresql_where=OWED,
        sqlite_where=OWED,
    )


def downgrade() -> None:
    op.drop_index("ix_domain_event_deliveries_owed", table_name="domain_event_deliveries")
