"""workspace: tasks, links and the analyst workspace (filled by the workspace work)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('incident_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('due_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('done_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_tasks_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_incident_tasks_assignee_id_users')),
    sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_incident_tasks_done_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_incident_tasks_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_tasks'))
    )
    op.create_index('ix_incident_tasks_incident_position', 'incident_tasks', ['incident_id', 'position'], unique=False)
    op.create_index(op.f('ix_incident_tasks_assignee_id'), 'incident_tasks', ['assignee_id'], unique=False)
    op.create_table('incident_links',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('linked_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_links_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_id'], ['incidents.id'], name=op.f('fk_incident_links_linked_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_incident_links_created_by_id_users')),
    sa.PrimaryKeyConstraint('incident_id', 'linked_id', name=op.f('pk_incident_links'))
    )
    op.create_index(op.f('ix_incident_links_linked_id'), 'incident_links', ['linked_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_incident_links_linked_id'), table_name='incident_links')
    op.drop_table('incident_links')
    op.drop_index(op.f('ix_incident_tasks_assignee_id'), table_name='incident_tasks')
    op.drop_index('ix_incident_tasks_incident_position', table_name='incident_tasks')
    op.drop_table('incident_tasks')
