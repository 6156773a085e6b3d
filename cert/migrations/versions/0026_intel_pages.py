"""Intel pages: an indicator's list by feed and its sightings, newest first, by keyset (issue 18;
see ``incidents/intel/browse.py``): ``indicators (feed_id, id)`` and
``incident_matches (indicator_id, id)``.

Revision ID: 0026
Revises: 0021
Create Date: 2026-12-04 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.create_index("ix_indicators_feed_id_id", ["feed_id", "id"], unique=False)
    with op.batch_alter_table("incident_matches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incident_matches_indicator_id_id", ["indicator_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("incident_matches", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_matches_indicator_id_id")
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.drop_index("ix_indicators_feed_id_id")
