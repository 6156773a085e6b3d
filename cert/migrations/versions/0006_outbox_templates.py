"""outbox_templates: outbox messages may be queued as a template rendered when first claimed

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTENT = "template IS NOT NULL OR (subject IS NOT NULL AND text_body IS NOT NULL)"


def upgrade() -> None:
    # batch: SQLite rebuilds the table (it cannot relax NOT NULL in place); PostgreSQL alters it
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("template", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("template_context", sa.JSON(), nullable=True))
        batch.alter_column("subject", existing_type=sa.String(length=500), nullable=True)
        batch.alter_column("text_body", existing_type=sa.Text(), nullable=True)
        batch.create_check_constraint(op.f("ck_outbox_messages_content"), CONTENT)


def downgrade() -> None:
    # Messages still waiting as templates cannot be kept without their content.
    op.execute("DELETE FROM outbox_messages WHERE subject IS NULL OR text_body IS NULL")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_constraint(op.f("ck_outbox_messages_content"), type_="check")
        batch.alter_column("text_body", existing_type=sa.Text(), nullable=False)
        batch.alter_column("subject", existing_type=sa.String(length=500), nullable=False)
        batch.drop_column("template_context")
        batch.drop_column("template")
