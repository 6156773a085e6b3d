"""The TAXII server's keyset order: observables by (tlp, created_at, id), matches by
(matched_at, id)
(issue 18; see ``incidents/sharing/collections.py``).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_incident_observables_tlp_created",
        "incident_observables",
        ["tlp", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_incident_matches_matched_at_id", "incident_matches", ["matched_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_incident_matches_matched_at_id", table_name="incident_matches")
    op.drop_index("ix_incident_observables_tlp_created", table_name="incident_observables")
