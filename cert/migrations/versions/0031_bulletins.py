"""bulletins: alert bulletins (issue 20) — bulletins, their language versions, revisions,
reference counters and source incidents (see ``bulletins/models.py``).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 20:42:58.172785
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0031'
down_revision: str | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bulletin_counters',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'year', name=op.f('pk_bulletin_counters'))
    )
    op.create_table('bulletins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('tlp', sa.String(length=32), nullable=False),
    sa.Column('risk', sa.String(length=16), nullable=False),
    sa.Column('impact', sa.String(length=16), nullable=False),
    sa.Column('affected', sa.JSON(), nullable=False),
    sa.Column('cves', sa.JSON(), nullable=False),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revised_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_bulletins_approved_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_bulletins_created_by_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_bulletins_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletins')),
    sa.UniqueConstraint('reference', name=op.f('uq_bulletins_reference'))
    )
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.create_index('ix_bulletins_kind_year_number', ['kind', 'year', 'number'], unique=False)
        batch_op.create_index('ix_bulletins_status_published', ['status', 'published_at'], unique=False)

    op.create_table('bulletin_incidents',
    sa.Column('bulletin_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'], name=op.f('fk_bulletin_incidents_bulletin_id_bulletins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_bulletin_incidents_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('bulletin_id', 'incident_id', name=op.f('pk_bulletin_incidents'))
    )
    with op.batch_alter_table('bulletin_incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulletin_incidents_incident_id'), ['incident_id'], unique=False)

    op.create_table('bulletin_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bulletin_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'], name=op.f('fk_bulletin_revisions_bulletin_id_bulletins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_bulletin_revisions_published_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletin_revisions')),
    sa.UniqueConstraint('bulletin_id', 'number', name=op.f('uq_bulletin_revisions_bulletin_id_number'))
    )
    op.create_table('bulletin_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bulletin_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('solution', sa.Text(), nullable=False),
    sa.Column('risks', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'], name=op.f('fk_bulletin_texts_bulletin_id_bulletins'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletin_texts')),
    sa.UniqueConstraint('bulletin_id', 'language', name=op.f('uq_bulletin_texts_bulletin_id_language'))
    )


def downgrade() -> None:
    op.drop_table('bulletin_texts')
    op.drop_table('bulletin_revisions')
    with op.batch_alter_table('bulletin_incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulletin_incidents_incident_id'))

    op.drop_table('bulletin_incidents')
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.drop_index('ix_bulletins_status_published')
        batch_op.drop_index('ix_bulletins_kind_year_number')

    op.drop_table('bulletins')
    op.drop_table('bulletin_counters')
