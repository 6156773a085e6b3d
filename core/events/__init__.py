"""Durable domain events (kernel, Flask-free): a row per event in the transaction of the change,
delivered by a scheduler job to registered handlers, at most once per (event, handler).

* :mod:`~core.events.registry`: :class:`EventName`, :class:`Payload`, :func:`register_events`,
  :class:`Event`, :class:`Handler`;
* :mod:`~core.events.store`: the ``domain_events`` and ``domain_event_deliveries`` tables,
  :func:`record_event`, listings;
* :mod:`~core.events.dispatch`: :func:`deliver_events`;
* :mod:`~core.events.purge`: :func:`purge_events` (delivered events past the retention).
"""

from __future__ import annotations

from core.events.dispatch import backoff, deliver_events
from core.events.purge import purge_events
from core.events.registry import (
    Event,
    EventName,
    Handler,
    Payload,
    SettingsNeed,
    UnknownEvent,
    event_name,
    payload_model,
    register_events,
    registered_names,
)
from core.events.store import (
    DeliveryStatus,
    DomainEvent,
    EventDelivery,
    count_by_status,
    events_of,
    list_deliveries,
    record_event,
)

__all__ = [
    "DeliveryStatus",
    "DomainEvent",
    "Event",
    "EventDelivery",
    "EventName",
    "Handler",
    "Payload",
    "SettingsNeed",
    "UnknownEvent",
    "backoff",
    "count_by_status",
    "deliver_events",
    "event_name",
    "events_of",
    "list_deliveries",
    "payload_model",
    "purge_events",
    "record_event",
    "register_events",
    "registered_names",
]
