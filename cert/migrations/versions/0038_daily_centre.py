"""the dashboard's daily aggregate gains the vigilance centre (issue 22): ``centre_id`` in the
keys of ``incident_daily`` and ``incident_daily_classes``, so that a centre's dashboard and the
national view's table per centre read the aggregate (see incidents.daily).

The two tables are rebuilt with the new key (``incidents`` is not touched). Their rows are kept:
when every incident is in the national centre (what 0037 left), they are that centre's rows;
otherwise the aggregate's zone is emptied — the dashboard computes from the incidents, as for a
database migrated with incidents in it — until ``cert reporting rebuild``.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-05 23:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMS = ("incidents", "acknowledged", "ack_ms", "resolved", "resolve_ms", "ack_met", "resolve_met")


def _figures(name: str, centre: bool) -> sa.Table:
    keys = ["month", "start", *(["centre_id"] if centre else []), "organisation_id"]
    return op.create_table(
        name,
        sa.Column("month", sa.Boolean(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        *([sa.Column("centre_id", sa.Integer(), autoincrement=False, nullable=False)] * centre),
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
        sa.PrimaryKeyConstraint(*keys, "priority", "red", name="pk_incident_daily"),
        sqlite_with_rowid=False,
    )


def _classes(name: str, centre: bool) -> sa.Table:
    return op.create_table(
        name,
        sa.Column("day", sa.Date(), nullable=False),
        *([sa.Column("centre_id", sa.Integer(), autoincrement=False, nullable=False)] * centre),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("red", sa.Boolean(), nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            *(["centre_id"] if centre else []),
            "category",
            "red",
            name="pk_incident_daily_classes",
        ),  # fmt: skip
        sqlite_with_rowid=False,
    )


def _swap(centre: bool) -> None:
    """Build the tables with (``centre``) or without the centre key, moving the rows over."""
    conn = op.get_bind()
    national = conn.scalar(sa.text("SELECT id FROM centres WHERE is_national"))
    elsewhere = conn.scalar(
        sa.text("SELECT count(*) FROM incidents WHERE centre_id <> :n"), {"n": national}
    )
    keep = not centre or not elsewhere  # going back: every centre's rows summed
    op.rename_table("incident_daily", "incident_daily_old")
    op.rename_table("incident_daily_classes", "incident_daily_classes_old")
    if conn.dialect.name == "postgresql":  # the constraint names follow the new tables
        op.execute("ALTER TABLE incident_daily_old RENAME CONSTRAINT pk_incident_daily TO pk_old")
        op.execute(
            "ALTER TABLE incident_daily_old RENAME CONSTRAINT "
            "fk_incident_daily_organisation_id_organisations TO fk_old"
        )
        op.execute(
            "ALTER TABLE incident_daily_classes_old "
            "RENAME CONSTRAINT pk_incident_daily_classes TO pk_classes_old"
        )
    _figures("incident_daily", centre)
    _classes("incident_daily_classes", centre)
    if keep:
        sums = ", ".join(SUMS)
        added = ", ".join(f"sum({s})" for s in SUMS)
        if centre:
            op.execute(
                sa.text(
                    f"INSERT INTO incident_daily (month, start, centre_id, organisation_id, "  # noqa: S608 (constant names)
                    f"priority, red, {sums}) SELECT month, start, :n, organisation_id, priority, "
                    f"red, {sums} FROM incident_daily_old"
                ).bindparams(n=national)
            )
            op.execute(
                sa.text(
                    "INSERT INTO incident_daily_classes (day, centre_id, category, red, "
                    "incidents) SELECT day, :n, category, red, incidents "
                    "FROM incident_daily_classes_old"
                ).bindparams(n=national)
            )
        else:
            op.execute(
                f"INSERT INTO incident_daily (month, start, organisation_id, priority, red, "  # noqa: S608
                f"{sums}) SELECT month, start, organisation_id, priority, red, {added} "
                f"FROM incident_daily_old GROUP BY month, start, organisation_id, priority, red"
            )
            op.execute(
                "INSERT INTO incident_daily_classes (day, category, red, incidents) "
                "SELECT day, category, red, sum(incidents) FROM incident_daily_classes_old "
                "GROUP BY day, category, red"
            )
    else:
        op.execute("UPDATE incident_daily_zone SET zone = NULL")  # cert reporting rebuild
    op.drop_table("incident_daily_old")
    op.drop_table("incident_daily_classes_old")


def upgrade() -> None:
    _swap(centre=True)


def downgrade() -> None:
    _swap(centre=False)
