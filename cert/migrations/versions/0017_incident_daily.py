"""incident_daily: the dashboard's aggregate (per day and month; per day and class), its
zone, and partial indexes on the incidents not acknowledged or not resolved yet
(see incidents.daily)

A database migrated with no incident gets the zone ``Africa/Casablanca`` (the default
``CERT_TIMEZONE``): the aggregate is kept from the first incident on. With incidents already in
it, the zone stays empty (the dashboard computes from the incidents, as before) until
``cert reporting rebuild`` builds it.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-03 18:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_ZONE = "Africa/Casablanca"
UNRESOLVED = "resolved_at IS NULL AND status NOT IN ('duplicate', 'rejected')"


def upgrade() -> None:
    op.create_table(
        "incident_daily",
        sa.Column("month", sa.Boolean(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("red", sa.Boolean(), nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.Column("acknowledged", sa.Integer(), nullable=False),
        sa.Column("ack_ms", sa.BigInteger(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("resolve_ms", sa.BigInteger(), nullable=False),
        sa.Column("ack_met", sa.Integer(), nullable=False),
        sa.Column("resolve_met", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_incident_daily_organisation_id_organisations",
        ),
        sa.PrimaryKeyConstraint(
            "month", "start", "organisation_id", "priority", "red", name="pk_incident_daily"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "incident_daily_classes",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("red", sa.Boolean(), nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "category", "red", name="pk_incident_daily_classes"),
        sqlite_with_rowid=False,
    )
    zones = op.create_table(
        "incident_daily_zone",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incident_daily_zone"),
    )
    empty = op.get_bind().scalar(sa.text("SELECT count(*) FROM incidents")) == 0
    op.bulk_insert(zones, [{"id": 1, "zone": DEFAULT_ZONE if empty else None}])
    include = {"postgresql_include": ["id"]}
    op.create_index(
        "ix_incidents_unacknowledged",
        "incidents",
        ["received_at", "ack_due_at", "priority", "organisation_id", "tlp", "assignee_id"],
        sqlite_where=sa.text("acknowledged_at IS NULL"),
        postgresql_where=sa.text("acknowledged_at IS NULL"),
        **include,
    )
    op.create_index(
        "ix_incidents_unresolved",
        "incidents",
        [
            "received_at",
            "resolve_due_at",
            "status",
            "priority",
            "organisation_id",
            "tlp",
            "assignee_id",
        ],  # fmt: skip
        sqlite_where=sa.text(UNRESOLVED),
        postgresql_where=sa.text(UNRESOLVED),
        **include,
    )


def downgrade() -> None:
    op.drop_index("ix_incidents_unresolved", table_name="incidents")
    op.drop_index("ix_incidents_unacknowledged", table_name="incidents")
    op.drop_table("incident_daily_zone")
    op.drop_table("incident_daily_classes")
    op.drop_table("incident_daily")
