"""The queue's word search reads a stored document (issue 24's benchmark at 1,000,000 incidents),
PostgreSQL only: ``incidents.fts_document``, a ``tsvector`` column the database computes from the
reference, title and description (``GENERATED ALWAYS … STORED``, the same expression as
migration 0004's), and ``fts_incidents_document``, its GIN index, now on the column instead of the
expression.

Before it, every row a word search looked at — the GIN index's candidates, the rows a phrase
(``force brute``) must be checked against, the rows of the queue's newest-first walk — had its
``to_tsvector`` recomputed from the text; now it is read. The column is kept current by the
database on every insert and update (a title edited, a merge), so no code writes it, and the ORM
does not declare it: the backup (``cert backup``) leaves it out and the restore has the database
compute it again. Named ``fts_…`` so that the model comparison skips it (cert/migrations/env.py).

SQLite keeps its FTS5 tables (migration 0004): nothing changes there.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# migration 0004's expression, frozen here (a migration does not import the application)
DOCUMENT = (
    "to_tsvector('simple'::regconfig, replace(reference, '-', ' ') || ' ' || "
    "title || ' ' || description)"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX fts_incidents_document")
    op.execute(
        f"ALTER TABLE incidents ADD COLUMN fts_document tsvector GENERATED ALWAYS AS ({DOCUMENT}) "
        "STORED"
    )
    op.execute("CREATE INDEX fts_incidents_document ON incidents USING gin (fts_document)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX fts_incidents_document")
    op.execute("ALTER TABLE incidents DROP COLUMN fts_document")
    op.execute(f"CREATE INDEX fts_incidents_document ON incidents USING gin ({DOCUMENT})")
