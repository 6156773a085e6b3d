"""The queue's SLA order over the open incidents (issue 24's benchmark at 1,000,000 incidents),
PostgreSQL only: ``ix_expr_incidents_open_sla``, a partial expression index on the next due date
(``CASE WHEN acknowledged_at IS NULL THEN ack_due_at ELSE resolve_due_at END`` — the expression
``incidents.queue.keyset.sort_column("sla")`` orders by, written the same) and id, over the open
statuses, INCLUDE priority, tlp and assignee_id. ``?status=open&sort=sla`` pages then walk it in
their order instead of sorting every open incident (at 1M: API page SQL p50 104 ms → 17 ms).

SQLite has no use for it (its planner takes a partial index only when the query holds the
predicate's literals, and the queue binds its statuses), and would warn when reflecting an
expression index: it is not created there. Named ``ix_expr_…`` so that the model comparison skips
it (cert/migrations/env.py), like the search objects of migration 0004.

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-06 07:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0042"
down_revision: str | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the open statuses (incidents.vocabulary.OPEN_STATUSES), spelled out: a migration is frozen
OPEN = "'new', 'triaged', 'in_progress'"
NEXT_DUE = "(CASE WHEN acknowledged_at IS NULL THEN ack_due_at ELSE resolve_due_at END)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE INDEX ix_expr_incidents_open_sla ON incidents ({NEXT_DUE}, id) "
        f"INCLUDE (priority, tlp, assignee_id) WHERE status IN ({OPEN})"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_expr_incidents_open_sla")
