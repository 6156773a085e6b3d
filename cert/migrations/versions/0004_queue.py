"""queue: indexes for the triage queue, full-text search (FTS5 / tsvector + pg_trgm), saved filters

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:10:00

The search objects are raw SQL (the ORM cannot describe them) and all named ``fts_…`` so that
``alembic check`` skips them (``cert/migrations/env.py``); ``incidents/search.py`` queries them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Filter column first, then the sort, then what incidents.access.visible() reads (tlp,
# assignee_id): a page's count becomes an index-only scan.
VISIBLE = ["tlp", "assignee_id"]
QUEUE_INDEXES = (
    ("ix_incidents_status_received", ["status", "received_at", *VISIBLE]),
    ("ix_incidents_status_sla",
     ["status", "resolve_due_at", "ack_due_at", "acknowledged_at", *VISIBLE]),
    ("ix_incidents_priority_received", ["priority", "received_at", *VISIBLE]),
    ("ix_incidents_category_received", ["category", "received_at", *VISIBLE]),
    ("ix_incidents_tlp_received", ["tlp", "received_at", "assignee_id"]),
)
# indexes of 0002 widened for the same reason: (name, before, after)
WIDENED = (
    ("ix_incidents_assignee", ["assignee_id"], ["assignee_id", "status", "received_at", "tlp"]),
    ("ix_incidents_status_priority", ["status", "priority"], ["status", "priority", *VISIBLE]),
)

# SQLite: FTS5 external-content tables, kept in sync by triggers (the FTS5 documentation's recipe)
SQLITE_UP = (
    "CREATE VIRTUAL TABLE fts_incidents USING fts5(reference, title, description, "
    "content='incidents', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER fts_incidents_ai AFTER INSERT ON incidents BEGIN "
    "INSERT INTO fts_incidents(rowid, reference, title, description) "
    "VALUES (new.id, new.reference, new.title, new.description); END",
    "CREATE TRIGGER fts_incidents_ad AFTER DELETE ON incidents BEGIN "
    "INSERT INTO fts_incidents(fts_incidents, rowid, reference, title, description) "
    "VALUES ('delete', old.id, old.reference, old.title, old.description); END",
    "CREATE TRIGGER fts_incidents_au AFTER UPDATE OF reference, title, description ON incidents "
    "BEGIN INSERT INTO fts_incidents(fts_incidents, rowid, reference, title, description) "
    "VALUES ('delete', old.id, old.reference, old.title, old.description); "
    "INSERT INTO fts_incidents(rowid, reference, title, description) "
    "VALUES (new.id, new.reference, new.title, new.description); END",
    "CREATE VIRTUAL TABLE fts_incident_observables USING fts5(value, "
    "content='incident_observables', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER fts_incident_observables_ai AFTER INSERT ON incident_observables BEGIN "
    "INSERT INTO fts_incident_observables(rowid, value) VALUES (new.id, new.value); END",
    "CREATE TRIGGER fts_incident_observables_ad AFTER DELETE ON incident_observables BEGIN "
    "INSERT INTO fts_incident_observables(fts_incident_observables, rowid, value) "
    "VALUES ('delete', old.id, old.value); END",
    "CREATE TRIGGER fts_incident_observables_au AFTER UPDATE OF value ON incident_observables "
    "BEGIN INSERT INTO fts_incident_observables(fts_incident_observables, rowid, value) "
    "VALUES ('delete', old.id, old.value); "
    "INSERT INTO fts_incident_observables(rowid, value) VALUES (new.id, new.value); END",
    "INSERT INTO fts_incidents(fts_incidents) VALUES ('rebuild')",
    "INSERT INTO fts_incident_observables(fts_incident_observables) VALUES ('rebuild')",
)
SQLITE_DOWN = (
    "DROP TRIGGER fts_incident_observables_au",
    "DROP TRIGGER fts_incident_observables_ad",
    "DROP TRIGGER fts_incident_observables_ai",
    "DROP TABLE fts_incident_observables",
    "DROP TRIGGER fts_incidents_au",
    "DROP TRIGGER fts_incidents_ad",
    "DROP TRIGGER fts_incidents_ai",
    "DROP TABLE fts_incidents",
)
# PostgreSQL: the expression must stay identical to incidents.queue.search.pg_document()
PG_DOCUMENT = (
    "to_tsvector('simple'::regconfig, replace(reference, '-', ' ') || ' ' || "
    "title || ' ' || description)"
)


def upgrade() -> None:
    op.create_table('saved_filters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_filters_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filters')),
    sa.UniqueConstraint('user_id', 'name', name=op.f('uq_saved_filters_user_id_name'))
    )
    for name, _before, after in WIDENED:
        op.drop_index(name, table_name='incidents')
        op.create_index(name, 'incidents', after, unique=False)
    for name, columns in QUEUE_INDEXES:
        op.create_index(name, 'incidents', columns, unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        _upgrade_postgresql()
    else:
        for statement in SQLITE_UP:
            op.execute(statement)


def _upgrade_postgresql() -> None:
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public')
    trgm_schema = op.get_bind().execute(sa.text(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    )).scalar_one()
    op.execute(f'CREATE INDEX fts_incidents_document ON incidents USING gin ({PG_DOCUMENT})')
    op.execute(
        'CREATE INDEX fts_incident_observables_value ON incident_observables '
        f'USING gin (lower(value) {trgm_schema}.gin_trgm_ops)'
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX fts_incident_observables_value')
        op.execute('DROP INDEX fts_incidents_document')
    else:
        for statement in SQLITE_DOWN:
            op.execute(statement)
    for name, _columns in reversed(QUEUE_INDEXES):
        op.drop_index(name, table_name='incidents')
    for name, before, _after in WIDENED:
        op.drop_index(name, table_name='incidents')
        op.create_index(name, 'incidents', before, unique=False)
    op.drop_table('saved_filters')
