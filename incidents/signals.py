"""In-process signals, sent in the middle of the caller's transaction (even inside a savepoint
that may roll back): kept for now, but new subscribers use the durable domain events of
:mod:`incidents.events` instead, recorded beside each of these and delivered by the scheduler.

Every signal is sent with the incident as sender and ``session`` and ``actor`` keyword arguments;
the extra keyword arguments are listed next to each signal.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

incident_submitted = _signals.signal("incident-submitted")
# old, new (IncidentStatus), event
incident_status_changed = _signals.signal("incident-status-changed")
# event (sent after incident_status_changed when the new status is closed)
incident_closed = _signals.signal("incident-closed")
# old, new (user ids or None, as the durable incident.assigned event), event
incident_assigned = _signals.signal("incident-assigned")
# old, new (P1..P4), event
incident_priority_changed = _signals.signal("incident-priority-changed")
# event (internal comment)
incident_commented = _signals.signal("incident-commented")
# event (reply of the CERT to the reporter, e-mailed)
incident_replied = _signals.signal("incident-replied")
# event (answer of the reporter from the status page)
incident_reporter_answered = _signals.signal("incident-reporter-answered")
# observable (IncidentObservable), event
incident_observable_added = _signals.signal("incident-observable-added")
# duplicate (the merged Incident; sender is the survivor)
incident_merged = _signals.signal("incident-merged")
