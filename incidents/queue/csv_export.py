"""CSV rows of the queue export, safe to open in a spreadsheet (Flask-free).

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be read as a
formula by Excel or LibreOffice (CSV injection, OWASP): such cells get a leading single quote.
Dates are ISO 8601 in UTC.
"""

from __future__ import annotations

import datetime as dt

from incidents.models import Incident
from incidents.rules.sla import sla_state

HEADER = (
    "reference", "title", "organisation", "sector", "centre", "category", "type", "tlp", "pap",
    "priority", "status", "assignee", "received_at", "ack_due_at", "resolve_due_at", "sla",
    "observables",
)  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """The cell text, with a quote before anything a spreadsheet would evaluate."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, dt.datetime) else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_row(incident: Incident, now: dt.datetime, due_within_hours: int) -> list[str]:
    state = sla_state(incident, now, dt.timedelta(hours=due_within_hours))
    observables = " ".join(f"{o.type}:{o.value}" for o in incident.observables)
    values: list[object] = [
        incident.reference, incident.title, incident.organisation.slug,
        incident.organisation.sector, incident.centre.slug, incident.category, incident.type,
        incident.tlp, incident.pap, incident.priority, incident.status,
        incident.assignee.email if incident.assignee else None, incident.received_at,
        incident.ack_due_at, incident.resolve_due_at, state, observables,
    ]  # fmt: skip
    return [neutralise(v) for v in values]
