"""The national view's table per vigilance centre (read side, Flask-free): for each centre, the
incidents received in the period, those of them still open, those acknowledged on time (and the
acknowledgement SLA compliance) and the P1/P2 among them.

One ``GROUP BY centre_id`` over the period's incidents the actor may see
(:func:`incidents.access.visible`): leads and the national centre's members see every centre; an
analyst of some centres sees rows of their centres (and of the incidents shared with them).
Only the flags it needs are computed per incident (not the dashboard's durations); the daily
aggregate has no centre, see :mod:`incidents.reporting.dashboard`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from core.identity.authz import Actor
from core.identity.centres import Centre
from incidents.access import visible
from incidents.models import OPEN_STATUSES, Incident

URGENT = ("P1", "P2")


@dataclass(frozen=True)
class CentreRow:
    centre: Centre
    incidents: int = 0  # received in the period
    open: int = 0  # of them, still new, triaged or in progress
    acknowledged_on_time: int = 0
    ack_decided: int = 0  # acknowledged, or not yet but past due
    urgent: int = 0  # P1 and P2

    @property
    def ack_compliance(self) -> float | None:
        return self.acknowledged_on_time / self.ack_decided if self.ack_decided else None


def by_centre(
    session: Session, actor: Actor, start: dt.datetime, end: dt.datetime, *, now: dt.datetime
) -> list[CentreRow]:
    """One row per centre (the national one first, then by slug; centres without incidents
    too), over the incidents received from ``start`` (included) to ``end`` (excluded)."""
    acked, due = Incident.acknowledged_at, Incident.ack_due_at
    inner = (
        select(
            Incident.centre_id.label("centre_id"),
            _flag(Incident.status.in_([s.value for s in OPEN_STATUSES])).label("open"),
            _flag(and_(acked.is_not(None), acked <= due)).label("on_time"),
            _flag(or_(acked.is_not(None), due < now)).label("decided"),
            _flag(Incident.priority.in_(URGENT)).label("urgent"),
        )
        .where(visible(actor), Incident.received_at >= start, Incident.received_at < end)
        .subquery("rows")
    )
    query = select(
        inner.c.centre_id,
        func.count(),
        func.sum(inner.c.open),
        func.sum(inner.c.on_time),
        func.sum(inner.c.decided),
        func.sum(inner.c.urgent),
    ).group_by(inner.c.centre_id)
    sums = {int(row[0]): [int(v or 0) for v in row[1:]] for row in session.execute(query)}
    centres = session.scalars(select(Centre).order_by(Centre.is_national.desc(), Centre.slug))
    return [CentreRow(centre, *sums.get(centre.id, [])) for centre in centres]


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)
