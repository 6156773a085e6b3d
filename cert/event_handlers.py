"""Every slice's domain-event handlers, listed once for the dispatcher (composition root):
the scheduler's ``events.deliver`` job and ``cert events deliver`` use :data:`HANDLERS`.

Importing a slice's events module also registers its event names and payloads, which the
dispatcher needs to read the events back.
"""

from __future__ import annotations

from cert.events import Handler
from incidents import events as incident_events

HANDLERS: tuple[Handler, ...] = (*incident_events.HANDLERS,)
