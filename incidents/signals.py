"""Signals other packages subscribe to (playbooks, bulletins). Handlers run inside the caller's
transaction and only record intent; the scheduler does the work."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

incident_submitted = _signals.signal("incident-submitted")
incident_status_changed = _signals.signal("incident-status-changed")
incident_closed = _signals.signal("incident-closed")
