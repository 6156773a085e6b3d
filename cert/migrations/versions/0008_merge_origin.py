"""merge_origin: each observable keeps the incident it was reported in across merges

``incident_observables.origin_incident_id``: the incident whose report an observable came from
when a merge moved it to another incident (NULL: the incident's own). Reporter-facing views show
only observables whose origin belongs to the reporter's organisation (issue 15). Attachments do
not move on merge, so they need no origin.

SQLite rebuilds the table both ways (batch mode: a foreign key cannot be added in place with a
name and ``ON DELETE`` that reflection sees, nor a column used by one dropped); the rebuild drops
the FTS5 triggers of 0004, so they are created again afterwards and the index rebuilt.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "incident_observables"
COLUMN = "origin_incident_id"
FK = "fk_incident_observables_origin_incident_id_incidents"
INDEX = "ix_incident_observables_origin_incident_id"
# the triggers of 0004 that keep fts_incident_observables in sync (SQLite)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER fts_incident_observables_ai AFTER INSERT ON incident_observables BEGIN "
    "INSERT INTO fts_incident_observables(rowid, value) VALUES (new.id, new.value); END",
    "CREATE TRIGGER fts_incident_observables_ad AFTER DELETE ON incident_observables BEGIN "
    "INSERT INTO fts_incident_observables(fts_incident_observables, rowid, value) "
    "VALUES ('delete', old.id, old.value); END",
    "CREATE TRIGGER fts_incident_observables_au AFTER UPDATE OF value ON incident_observables "
    "BEGIN INSERT INTO fts_incident_observables(fts_incident_observables, rowid, value) "
    "VALUES ('delete', old.id, old.value); "
    "INSERT INTO fts_incident_observables(rowid, value) VALUES (new.id, new.value); END",
    "INSERT INTO fts_incident_observables(fts_incident_observables) VALUES ('rebuild')",
)


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.add_column(sa.Column(COLUMN, sa.Integer(), nullable=True))
        batch_op.create_foreign_key(FK, "incidents", [COLUMN], ["id"], ondelete="CASCADE")
        batch_op.create_index(INDEX, [COLUMN], unique=False)
    _restore_sqlite_triggers()


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_constraint(FK, type_="foreignkey")
        batch_op.drop_column(COLUMN)
    _restore_sqlite_triggers()


def _restore_sqlite_triggers() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    existing = op.get_bind().execute(
        sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
        {"t": TABLE},
    )
    if not set(existing.scalars()):  # dropped with the table rebuilt
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
