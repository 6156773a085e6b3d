"""playbooks: OASIS CACAO 2.0 playbooks (issue 19) — versions, triggers, schedules, runs and
their steps (see ``playbooks/models.py``).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 18:35:44.429465
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "playbook_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cacao_id", sa.String(length=80), nullable=False),
        sa.Column("cron", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("organisation_ids", sa.JSON(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_fire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_playbook_schedules_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_schedules")),
    )
    with op.batch_alter_table("playbook_schedules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_playbook_schedules_cacao_id"), ["cacao_id"], unique=False
        )
        batch_op.create_index(
            "ix_playbook_schedules_due", ["enabled", "next_fire_at"], unique=False
        )

    op.create_table(
        "playbook_triggers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cacao_id", sa.String(length=80), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_playbook_triggers_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_triggers")),
    )
    with op.batch_alter_table("playbook_triggers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_playbook_triggers_cacao_id"), ["cacao_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_playbook_triggers_event"), ["event"], unique=False)

    op.create_table(
        "playbooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cacao_id", sa.String(length=80), nullable=False),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("playbook_types", sa.JSON(), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("builtin", sa.String(length=64), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["imported_by_id"], ["users.id"], name=op.f("fk_playbooks_imported_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbooks")),
        sa.UniqueConstraint("cacao_id", "modified", name=op.f("uq_playbooks_cacao_id_modified")),
    )
    with op.batch_alter_table("playbooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_playbooks_cacao_id"), ["cacao_id"], unique=False)
        batch_op.create_index("ix_playbooks_current_phase", ["current", "phase"], unique=False)

    op.create_table(
        "playbook_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("playbook_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("trigger_id", sa.Integer(), nullable=True),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("parent_run_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("steps_done", sa.Integer(), nullable=False),
        sa.Column("wake_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_playbook_runs_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_playbook_runs_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_run_id"],
            ["playbook_runs.id"],
            name=op.f("fk_playbook_runs_parent_run_id_playbook_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["playbook_id"], ["playbooks.id"], name=op.f("fk_playbook_runs_playbook_id_playbooks")
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["playbook_schedules.id"],
            name=op.f("fk_playbook_runs_schedule_id_playbook_schedules"),
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["users.id"], name=op.f("fk_playbook_runs_started_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["trigger_id"],
            ["playbook_triggers.id"],
            name=op.f("fk_playbook_runs_trigger_id_playbook_triggers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_runs")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_playbook_runs_dedupe_key")),
    )
    with op.batch_alter_table("playbook_runs", schema=None) as batch_op:
        batch_op.create_index("ix_playbook_runs_incident", ["incident_id", "id"], unique=False)
        batch_op.create_index("ix_playbook_runs_playbook", ["playbook_id", "id"], unique=False)
        batch_op.create_index("ix_playbook_runs_status_wake", ["status", "wake_at"], unique=False)

    op.create_table(
        "playbook_step_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(length=120), nullable=False),
        sa.Column("step_type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("thread", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("result", sa.String(length=300), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("child_run_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_run_id"],
            ["playbook_runs.id"],
            name=op.f("fk_playbook_step_runs_child_run_id_playbook_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["playbook_runs.id"],
            name=op.f("fk_playbook_step_runs_run_id_playbook_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["incident_tasks.id"],
            name=op.f("fk_playbook_step_runs_task_id_incident_tasks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_step_runs")),
        sa.UniqueConstraint("run_id", "seq", name=op.f("uq_playbook_step_runs_run_id_seq")),
    )
    with op.batch_alter_table("playbook_step_runs", schema=None) as batch_op:
        batch_op.create_index("ix_playbook_step_runs_task", ["task_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("playbook_step_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_playbook_step_runs_task")

    op.drop_table("playbook_step_runs")
    with op.batch_alter_table("playbook_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_playbook_runs_status_wake")
        batch_op.drop_index("ix_playbook_runs_playbook")
        batch_op.drop_index("ix_playbook_runs_incident")

    op.drop_table("playbook_runs")
    with op.batch_alter_table("playbooks", schema=None) as batch_op:
        batch_op.drop_index("ix_playbooks_current_phase")
        batch_op.drop_index(batch_op.f("ix_playbooks_cacao_id"))

    op.drop_table("playbooks")
    with op.batch_alter_table("playbook_triggers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_playbook_triggers_event"))
        batch_op.drop_index(batch_op.f("ix_playbook_triggers_cacao_id"))

    op.drop_table("playbook_triggers")
    with op.batch_alter_table("playbook_schedules", schema=None) as batch_op:
        batch_op.drop_index("ix_playbook_schedules_due")
        batch_op.drop_index(batch_op.f("ix_playbook_schedules_cacao_id"))

    op.drop_table("playbook_schedules")
