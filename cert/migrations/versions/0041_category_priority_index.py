"""The queue of one RSIT class sorted by priority (issue 24's benchmark at 1,000,000 incidents):
``ix_incidents_category_priority`` (category, priority, id; on PostgreSQL INCLUDE tlp and
assignee_id, the columns the visibility check reads), so that the first page walks the index in
its order instead of sorting every incident of the class (392 ms → see bench/README.md).

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-06 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_incidents_category_priority",
        "incidents",
        ["category", "priority", "id"],
        postgresql_include=["tlp", "assignee_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_incidents_category_priority", table_name="incidents")
