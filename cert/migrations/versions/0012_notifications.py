"""notifications: the notification centre (issue 17, "Notifications")

``notifications``: one row per (user, thing to tell them), fed by the domain events; indexed for
the list (``user_id, id``), the bell (unread rows, partial) and the mail job (rows whose e-mail
is due, partial). ``notification_preferences``: per user, e-mail immediately / digest / off, on
duty, last digest. ``incident_sla_alerts``: the SLA watch's marks (once per incident, due date,
state and due time). ``incident_answers_waiting``: the queue's "answer waiting" marker.
``notification_reporter_mails``: the reporter's status-change e-mails the mail job sends. And
``ix_incidents_unacknowledged_ack_due``: the SLA watch's scan of acknowledgement due dates.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNREAD = sa.text("read_at IS NULL")
MAIL_PENDING = sa.text("mail_pending")
UNACKNOWLEDGED = sa.text("acknowledged_at IS NULL")


def _time(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, core.db.UtcDateTime(timezone=True), nullable=nullable)


def _incident_fk(
    table: str, column: str = "incident_id", ondelete: str = "CASCADE"
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["incidents.id"],
        name=op.f(f"fk_{table}_{column}_incidents"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("email", sa.String(length=16), nullable=False),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        _time("last_digest_at", nullable=True),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "incident_answers_waiting",
        sa.Column("incident_id", sa.Integer(), autoincrement=False, nullable=False),
        _time("since"),
        sa.Column("timeline_event_id", sa.Integer(), nullable=False),
        _incident_fk("incident_answers_waiting"),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_answers_waiting")),
    )
    op.create_table(
        "incident_sla_alerts",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        _time("due_at"),
        _time("created_at"),
        _incident_fk("incident_sla_alerts"),
        sa.PrimaryKeyConstraint(
            "incident_id", "deadline", "state", "due_at", name=op.f("pk_incident_sla_alerts")
        ),
    )
    op.create_table(
        "notification_reporter_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("timeline_event_id", sa.Integer(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        _time("created_at"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["domain_events.id"],
            name=op.f("fk_notification_reporter_mails_event_id_domain_events"),
            ondelete="CASCADE",
        ),
        _incident_fk("notification_reporter_mails"),
        _incident_fk("notification_reporter_mails", "merged_into_id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_reporter_mails")),
        sa.UniqueConstraint("event_id", name=op.f("uq_notification_reporter_mails_event_id")),
    )
    op.create_index(
        op.f("ix_notification_reporter_mails_incident_id"),
        "notification_reporter_mails",
        ["incident_id"],
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("deadline", sa.String(length=16), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        _time("created_at"),
        _time("read_at", nullable=True),
        sa.Column("mail_pending", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_notifications_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["domain_events.id"],
            name=op.f("fk_notifications_event_id_domain_events"),
            ondelete="SET NULL",
        ),
        _incident_fk("notifications"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "event_id", name=op.f("uq_notifications_user_id_event_id")),
    )
    op.create_index(op.f("ix_notifications_incident_id"), "notifications", ["incident_id"])
    op.create_index("ix_notifications_user_id_id", "notifications", ["user_id", "id"])
    op.create_index(
        "ix_notifications_unread",
        "notifications",
        ["user_id"],
        sqlite_where=UNREAD,
        postgresql_where=UNREAD,
    )
    op.create_index(
        "ix_notifications_mail_pending",
        "notifications",
        ["user_id", "id"],
        sqlite_where=MAIL_PENDING,
        postgresql_where=MAIL_PENDING,
    )
    op.create_index(
        "ix_incidents_unacknowledged_ack_due",
        "incidents",
        ["ack_due_at"],
        sqlite_where=UNACKNOWLEDGED,
        postgresql_where=UNACKNOWLEDGED,
    )


def downgrade() -> None:
    op.drop_index("ix_incidents_unacknowledged_ack_due", table_name="incidents")
    op.drop_index("ix_notifications_mail_pending", table_name="notifications")
    op.drop_index("ix_notifications_unread", table_name="notifications")
    op.drop_index("ix_notifications_user_id_id", table_name="notifications")
    op.drop_index(op.f("ix_notifications_incident_id"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(
        op.f("ix_notification_reporter_mails_incident_id"), table_name="notification_reporter_mails"
    )
    op.drop_table("notification_reporter_mails")
    op.drop_table("incident_sla_alerts")
    op.drop_table("incident_answers_waiting")
    op.drop_table("notification_preferences")
