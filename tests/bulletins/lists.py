"""Test helpers: distribution lists written straight to the database (the services that manage
them are tested on their own)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bulletins.models import DigestFrequency, DistributionList, ListKind, ListMember
from core.clock import Clock


def make_list(
    session: Session,
    clock: Clock,
    slug: str,
    kind: ListKind,
    *,
    members: list[dict[str, Any]] | None = None,
    digest: DigestFrequency = DigestFrequency.NONE,
    **fields: Any,
) -> DistributionList:
    now = clock.now()
    dlist = DistributionList(slug=slug, name=slug, kind=kind, digest=digest, created_at=now,
                             updated_at=now, **fields)  # fmt: skip
    for member in members or []:
        dlist.members.append(ListMember(created_at=now, **member))
    session.add(dlist)
    session.flush()
    return dlist
