"""Probe events for the tests of domain events: their names, payloads and audit action, recording
them, and handlers whose effect is an audit row."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.audit import AuditAction
from core.clock import FrozenClock, SystemClock
from core.db import SessionFactory
from core.events import (
    Event,
    EventDelivery,
    EventName,
    Payload,
    record_event,
    register_events,
)
from core.identity.authz import Actor
from core.uow import transaction

ACTOR = Actor.system("test")


class Probe(EventName):
    PINGED = "probe.pinged"
    PONGED = "probe.ponged"


class ProbeAction(AuditAction):
    HANDLED = "probe.handled"


class Ping(Payload):
    n: int
    note: str | None = None


class Pong(Payload):
    n: int


register_events({Probe.PINGED: Ping, Probe.PONGED: Pong})


def ping(n: int) -> Event:
    return Event.of(Probe.PINGED, Ping(n=n), aggregate=("probe", n), actor=ACTOR)


def record(factory: SessionFactory, clock: FrozenClock | SystemClock, *ns: int) -> list[int]:
    with transaction(factory) as session:
        return [record_event(session, ping(n), clock=clock) for n in ns]


def effect(name: str, log: list[Event] | None = None) -> Callable[[Session, Event], None]:
    """A handler whose effect is an audit row ("handled" by ``name``, the event's id)."""

    def handle(session: Session, event: Event) -> None:
        if log is not None:
            log.append(event)
        audit.record(
            session, Actor.system(name), ProbeAction.HANDLED, "event", event.id, clock=SystemClock()
        )

    return handle


def effects(factory: SessionFactory) -> dict[tuple[str, str], int]:
    """(handler, event id) → how many effect rows it left."""
    with transaction(factory) as session:
        rows = session.execute(
            select(audit.AuditEntry.actor_label, audit.AuditEntry.object_id, func.count())
            .where(audit.AuditEntry.action == "probe.handled")
            .group_by(audit.AuditEntry.actor_label, audit.AuditEntry.object_id)
        )
        return {(label, object_id): count for label, object_id, count in rows}


def slice_settings(**overrides: object) -> dict[str, object]:
    """Each slice's settings as the scheduler builds them (``JobContext.settings``), from a test
    configuration with ``overrides`` (``cert_name="CERT Test"``): what ``deliver_events`` hands
    the handlers that take settings."""
    from cert.slices_list import SLICES
    from core.config import load_config

    config = load_config({"secret_key": "k" * 40, **overrides}, environ={})
    return {s.name: s.settings(config) for s in SLICES if s.settings is not None}


def deliveries(factory: SessionFactory) -> list[EventDelivery]:
    """Every (event, handler) delivery recorded, oldest first."""
    with transaction(factory) as session:
        return list(session.scalars(select(EventDelivery).order_by(EventDelivery.id)))
