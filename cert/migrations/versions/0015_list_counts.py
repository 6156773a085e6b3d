"""list_counts: the visibility indexes of incidents carry ``id`` on PostgreSQL (INCLUDE)

The queue's indexes (0004) end with what ``incidents.access.visible`` reads (``tlp``,
``assignee_id``) so that counting a filter reads the index alone. For an analyst that rule also
checks, on TLP:RED rows, whether they are a participant — by the incident's ``id``, which a
PostgreSQL index did not hold: every count of the queue, of ``GET /api/v1/incidents`` and of the
dashboard's open incidents then read the table too (a bitmap heap scan of 3,700 pages for the
8,000 open incidents of 100,000: 15–35 ms instead of 3). ``INCLUDE (id)`` makes them index-only
scans again; SQLite indexes always hold the rowid, so nothing changes there.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VISIBLE = ["tlp", "assignee_id"]
INDEXES = (
    ("ix_incidents_status_priority", ["status", "priority", *VISIBLE]),
    ("ix_incidents_assignee", ["assignee_id", "status", "received_at", "tlp"]),
    ("ix_incidents_status_received", ["status", "received_at", *VISIBLE]),
    (
        "ix_incidents_status_sla",
        ["status", "resolve_due_at", "ack_due_at", "acknowledged_at", *VISIBLE],
    ),
    ("ix_incidents_priority_received", ["priority", "received_at", *VISIBLE]),
    ("ix_incidents_category_received", ["category", "received_at", *VISIBLE]),
    ("ix_incidents_tlp_received", ["tlp", "received_at", "assignee_id"]),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # dialect-specific: INCLUDE is PostgreSQL's (SQLite indexes hold the rowid)
    for name, columns in INDEXES:
        op.drop_index(name, table_name="incidents")
        op.create_index(name, "incidents", columns, postgresql_include=["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, columns in reversed(INDEXES):
        op.drop_index(name, table_name="incidents")
        op.create_index(name, "incidents", columns)
