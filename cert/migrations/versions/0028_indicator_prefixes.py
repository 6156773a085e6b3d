"""indicator_prefixes: the prefix lengths of the networks the index holds (issue 18, enrichment
speed; see ``feeds/index/prefixes.py``). A lookup probes an address's networks of these lengths
only. Filled here from the networks already stored (``indicator_values.net_first`` set), then by
the store with each value it writes.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 17:17:52
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    prefixes = op.create_table(
        "indicator_prefixes",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("kind", "prefix", name=op.f("pk_indicator_prefixes")),
    )
    values = sa.table(
        "indicator_values", sa.column("kind", sa.String), sa.column("value", sa.String),
        sa.column("net_first", sa.String),
    )  # fmt: skip
    rows = op.get_bind().execute(
        sa.select(values.c.kind, values.c.value).where(values.c.net_first.is_not(None))
    )
    found = {(kind, int(value.rsplit("/", 1)[1])) for kind, value in rows if "/" in value}
    if found:
        op.bulk_insert(prefixes, [{"kind": k, "prefix": p} for k, p in sorted(found)])


def downgrade() -> None:
    op.drop_table("indicator_prefixes")
