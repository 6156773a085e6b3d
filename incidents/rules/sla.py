"""SLA state (Flask-free): how each due date of an incident stands, in Python and in SQL.

The targets and the due dates set at intake are :mod:`incidents.rules.priority`'s (the policy is
``CERT_SLA_POLICY``); this module says where an incident stands against them:

The states have one vocabulary, :class:`SlaState` (named in ``labels.SLA_STATES``): a due date
not done yet is ``on_time``, ``due_soon`` or ``overdue``; a done one ``met`` (by the due date)
or ``missed`` (done late); one no longer due ``void``.

* :func:`deadlines` / :func:`sla`: each due date and its state (status page, incident file, PDF);
* :func:`sla_state`: the state of a queue row (queue column, CSV export): an open incident's next
  due date, or for a handled one whether every due date was met;
* :func:`sla_clause`: ``overdue`` (the filter's ``breached``) / ``due_soon`` as an SQL
  condition (queue filter).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_

from incidents.models import OPEN_STATUSES, Incident, IncidentStatus
from incidents.rules import labels


class SlaState(enum.StrEnum):
    """How a due date stands (names: ``labels.SLA_STATES``)."""

    ON_TIME = "on_time"  # not done, due date ahead
    DUE_SOON = "due_soon"  # not done, due date within the window
    OVERDUE = "overdue"  # not done, due date passed
    MET = "met"  # done by the due date
    MISSED = "missed"  # done after the due date
    VOID = "void"  # no longer due


PENDING = frozenset({SlaState.ON_TIME, SlaState.DUE_SOON, SlaState.OVERDUE})  # not done yet


@dataclass(frozen=True)
class Deadline:
    """A due date and how it stands (:class:`SlaState`)."""

    name: str
    due: dt.datetime
    done: dt.datetime | None
    state: SlaState


def deadline(
    name: str,
    due: dt.datetime,
    done: dt.datetime | None,
    now: dt.datetime,
    within: dt.timedelta | None = None,
) -> Deadline:
    if done is not None:
        return Deadline(name, due, done, SlaState.MET if done <= due else SlaState.MISSED)
    return Deadline(name, due, None, _pending(due, now, within))


def _pending(due: dt.datetime, now: dt.datetime, within: dt.timedelta | None) -> SlaState:
    if now > due:
        return SlaState.OVERDUE
    if within is not None and due <= now + within:
        return SlaState.DUE_SOON
    return SlaState.ON_TIME


def deadlines(incident: Incident, now: dt.datetime) -> list[Deadline]:
    """Acknowledgement and resolution (no resolution due for rejected or duplicate reports)."""
    acknowledged = incident.acknowledged_at
    if acknowledged is None and incident.status != IncidentStatus.NEW:
        acknowledged = incident.updated_at  # acknowledged by the move out of "new"
    result = [deadline(labels.N_("Acknowledgement"), incident.ack_due_at, acknowledged, now)]
    if incident.status in {IncidentStatus.REJECTED, IncidentStatus.DUPLICATE}:
        return result
    resolved = incident.resolved_at or incident.closed_at
    result.append(deadline(labels.N_("Resolution"), incident.resolve_due_at, resolved, now))
    return result


def sla(incident: Incident, now: dt.datetime) -> list[Deadline]:
    """Acknowledgement and resolution, then the NIS2 deadlines of a significant incident."""
    result = deadlines(incident, now)
    nis2 = (
        (labels.N_("NIS2 early warning"), incident.early_warning_due_at),
        (labels.N_("NIS2 notification"), incident.notification_due_at),
        (labels.N_("NIS2 final report"), incident.final_report_due_at),
    )
    for name, due in nis2:
        if due is not None:
            item = deadline(name, due, None, now)
            if incident.status not in OPEN_STATUSES:
                item = Deadline(name, due, None, SlaState.VOID)
            result.append(item)
    return result


def sla_state(incident: Incident, now: dt.datetime, within: dt.timedelta) -> SlaState:
    """An open incident's next due date: ``overdue`` (the ``sla=breached`` filter), ``due_soon``
    (``sla=due_soon``) or ``on_time``; a handled one: ``met`` when every due date was met,
    else ``missed``."""
    if incident.status not in OPEN_STATUSES:
        states = {item.state for item in deadlines(incident, now)}
        return SlaState.MISSED if states - {SlaState.MET} else SlaState.MET
    due = [incident.resolve_due_at]
    if incident.acknowledged_at is None:
        due.append(incident.ack_due_at)
    if min(due) < now:
        return SlaState.OVERDUE
    return SlaState.DUE_SOON if min(due) <= now + within else SlaState.ON_TIME


def sla_clause(state: str, now: dt.datetime, within: dt.timedelta) -> ColumnElement[bool]:
    """Open incidents past (``breached``) or within ``within`` of (``due_soon``) a due date
    not yet met: acknowledgement while unacknowledged, resolution while open."""
    is_open = Incident.status.in_(sorted(OPEN_STATUSES))
    unacknowledged = Incident.acknowledged_at.is_(None)
    breached = or_(and_(unacknowledged, Incident.ack_due_at < now), Incident.resolve_due_at < now)
    if state == "breached":
        return and_(is_open, breached)
    soon = now + within
    due_soon = or_(
        and_(unacknowledged, Incident.ack_due_at <= soon), Incident.resolve_due_at <= soon
    )
    return and_(is_open, due_soon, ~breached)
