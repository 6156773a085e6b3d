"""answer_attachments: a file sent with the reporter's answer on ``/track`` is linked to that
answer (issue 17, reporters).

``incident_attachments.event_id`` names the ``reporter_reply`` event a file came with (NULL for
the files of the report form and the analysts' uploads); the conversation shows the files under
their answer. ``ON DELETE SET NULL``: an event is never deleted alone, but an attachment must
not block it.

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-03 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incident_attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_incident_attachments_event_id"), ["event_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_incident_attachments_event_id_incident_events"),
            "incident_events",
            ["event_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("incident_attachments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_incident_attachments_event_id_incident_events"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_incident_attachments_event_id"))
        batch_op.drop_column("event_id")
