"""SLA state (Flask-free): how each due date of an incident stands, in Python and in SQL.

The targets and the due dates set at intake are :mod:`incidents.rules.priority`'s (the policy is
``CERT_SLA_POLICY``); this module says where an incident stands against them:

* :func:`deadlines` / :func:`sla`: each due date as ``met``, ``late``, ``overdue``, ``pending``
  or ``void`` (status page, incident file);
* :func:`sla_state`: ``done``, ``breached``, ``due_soon`` or ``ok`` (queue column, CSV export);
* :func:`sla_clause`: the same ``breached`` / ``due_soon`` as an SQL condition (queue filter).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_

from incidents.models import OPEN_STATUSES, Incident, IncidentStatus
from incidents.rules import labels


@dataclass(frozen=True)
class Deadline:
    """A due date and how it stands: ``met``, ``late``, ``overdue``, ``pending`` or ``void``."""

    name: str
    due: dt.datetime
    done: dt.datetime | None
    state: str


def deadline(name: str, due: dt.datetime, done: dt.datetime | None, now: dt.datetime) -> Deadline:
    if done is not None:
        return Deadline(name, due, done, "met" if done <= due else "late")
    return Deadline(name, due, None, "overdue" if now > due else "pending")


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
                item = Deadline(name, due, None, "void")
            result.append(item)
    return result


def sla_state(incident: Incident, now: dt.datetime, within: dt.timedelta) -> str:
    """``done`` (not open), ``breached``, ``due_soon`` or ``ok`` — as the ``sla`` filter says."""
    if incident.status not in OPEN_STATUSES:
        return "done"
    due = [incident.resolve_due_at]
    if incident.acknowledged_at is None:
        due.append(incident.ack_due_at)
    if min(due) < now:
        return "breached"
    return "due_soon" if min(due) <= now + within else "ok"


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
