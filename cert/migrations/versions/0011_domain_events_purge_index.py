"""domain_events_purge_index: index domain_events.occurred_at for the purge of delivered events

The scheduler's ``events.purge`` job (and ``cert events purge``) deletes the events older than
``CERT_EVENTS_RETENTION_DAYS`` that every handler has; without this index each run scans the
whole table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_domain_events_occurred_at", "domain_events", ["occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_domain_events_occurred_at", table_name="domain_events")
