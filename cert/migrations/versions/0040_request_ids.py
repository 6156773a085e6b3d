"""Request ids (issue 24): ``domain_events``, ``outbox_messages`` and ``job_runs`` record the
request or job that wrote them (core.requestid), so that a log search by one id finds the
submission, the events it raised and the e-mails they queued. Existing rows keep NULL.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-06 05:55:16
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("domain_events", "job_runs", "outbox_messages")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("request_id")
