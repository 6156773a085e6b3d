"""What the dashboard and the statistics sum per incident (Flask-free): the figures of a group
and their SQL measures — counts, SLA compliance, MTTA and MTTR.

Definitions:
* MTTA: mean of ``acknowledged_at - received_at`` over acknowledged incidents; MTTR: mean of
  ``resolved_at - received_at`` over resolved ones.
* SLA compliance: met / decided, where an acknowledgement (resolution) is *decided* once it is
  done or its due date has passed, and *met* when done by the due date. Rejected and duplicate
  reports have no resolution to meet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_
from sqlalchemy.orm import Session

from core.db import is_postgres
from incidents.models import Incident, IncidentStatus

_NO_RESOLUTION = (IncidentStatus.REJECTED.value, IncidentStatus.DUPLICATE.value)


@dataclass(frozen=True)
class Figures:
    """Counts and sums of one group; ratios and means as properties (``None`` when empty)."""

    count: int = 0
    acknowledged: int = 0
    ack_seconds: float = 0.0
    resolved: int = 0
    resolve_seconds: float = 0.0
    ack_decided: int = 0
    ack_met: int = 0
    resolve_decided: int = 0
    resolve_met: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(a + b for a, b in zip(_values(self), _values(other), strict=True)))

    @property
    def mtta(self) -> float | None:
        return self.ack_seconds / self.acknowledged if self.acknowledged else None

    @property
    def mttr(self) -> float | None:
        return self.resolve_seconds / self.resolved if self.resolved else None

    @property
    def ack_compliance(self) -> float | None:
        return self.ack_met / self.ack_decided if self.ack_decided else None

    @property
    def resolve_compliance(self) -> float | None:
        return self.resolve_met / self.resolve_decided if self.resolve_decided else None


def _values(figures: Figures) -> tuple[Any, ...]:
    return tuple(getattr(figures, name) for name in Figures.__dataclass_fields__)


@dataclass(frozen=True)
class Group:
    key: str
    figures: Figures
    name: str | None = None  # organisations: display names (``name_ar`` after a tab)


def seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """``later - earlier`` in seconds (dialect-specific: marked)."""
    if is_postgres(session):
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def measures(session: Session, now: dt.datetime) -> list[ColumnElement[Any]]:
    """Per-incident measures, labelled as :data:`MEASURES` (0/1 flags and seconds), to sum."""
    acked, resolved, received = Incident.acknowledged_at, Incident.resolved_at, Incident.received_at
    resolvable = Incident.status.not_in(_NO_RESOLUTION)
    flag = _flag
    return [
        literal(1).label("count"),
        flag(acked.is_not(None)).label("acknowledged"),
        func.coalesce(seconds_between(session, acked, received), 0).label("ack_s"),
        flag(and_(resolved.is_not(None), resolvable)).label("resolved"),
        case(
            (
                resolvable,
                func.coalesce(seconds_between(session, resolved, Incident.received_at), 0),
            ),
            else_=0,
        ).label("resolve_s"),
        flag(or_(acked.is_not(None), Incident.ack_due_at < now)).label("ack_decided"),
        flag(and_(acked.is_not(None), acked <= Incident.ack_due_at)).label("ack_met"),
        flag(and_(resolvable, or_(resolved.is_not(None), Incident.resolve_due_at < now))).label(
            "resolve_decided"
        ),
        flag(and_(resolvable, resolved.is_not(None), resolved <= Incident.resolve_due_at)).label(
            "resolve_met"
        ),
    ]


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


MEASURES = (
    "count", "acknowledged", "ack_s", "resolved", "resolve_s",
    "ack_decided", "ack_met", "resolve_decided", "resolve_met",
)  # fmt: skip


def figures_of(sums: Sequence[Any]) -> Figures:
    """The figures of the sums of :data:`MEASURES`, in that order (``NULL`` sums are 0)."""
    return Figures(
        int(sums[0] or 0), int(sums[1] or 0), float(sums[2] or 0), int(sums[3] or 0),
        float(sums[4] or 0), int(sums[5] or 0), int(sums[6] or 0), int(sums[7] or 0),
        int(sums[8] or 0),
    )  # fmt: skip
