"""Helpers shared by the centre management tests (tests/core/test_centre_admin.py and
test_centre_members.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AccountAction, AuditEntry
from core.auth import centre_admin as admin
from core.clock import FrozenClock
from core.identity.centres import Centre
from tests.kit.factories import SYSTEM


def audit_entries(db: Session, action: AccountAction) -> list[AuditEntry]:
    """The audit entries of ``action``, oldest first."""
    query = select(AuditEntry).where(AuditEntry.action == action.value).order_by(AuditEntry.id)
    return list(db.scalars(query))


def make_centre(db: Session, clock: FrozenClock, slug: str = "sante", **values: object) -> Centre:
    """A centre created by the system (``name`` defaults to "Centre <slug>"), flushed."""
    centre = admin.create_centre(
        db,
        SYSTEM,
        slug=slug,
        name=str(values.pop("name", f"Centre {slug}")),
        clock=clock,
        **values,  # type: ignore[arg-type]
    )
    db.flush()
    return centre
