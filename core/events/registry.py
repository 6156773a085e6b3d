"""Domain event names, typed payloads and handlers (kernel, Flask-free, no domain import).

A slice declares its events once, in a module of its own (``incidents/events.py``):

* an enumeration of names, subclassing :class:`EventName` (``"<aggregate>.<what happened>"``,
  e.g. ``incident.submitted``). :class:`EventName` has no members, so each slice extends it with
  its own enumeration, as the audit actions will be;
* one :class:`Payload` model per name (pydantic, frozen, no extra field): ids and references,
  never free text written by an organisation, since any handler of any slice may read it;
* :func:`register_events` maps each name to its payload model; a name is registered once.

:func:`~core.events.store.record_event` validates the payload against the model registered for
the event's name before it writes the row; handlers get it back as that model.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ConfigDict

from core.identity.authz import Actor

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MAX_NAME = 64
MAX_HANDLER_NAME = 100


class EventName(enum.StrEnum):
    """Base of the slices' enumerations of event names (subclass it; it has no member)."""


class Payload(BaseModel):
    """Base of the typed payloads: immutable, unknown fields refused, revalidated on write (an
    instance built with ``model_construct`` is checked too)."""

    model_config = ConfigDict(frozen=True, extra="forbid", revalidate_instances="always")


class UnknownEvent(LookupError):
    """An event name no slice registered (or a payload model that is not the registered one)."""


_PAYLOADS: dict[str, type[Payload]] = {}
_NAMES: dict[str, EventName] = {}


def register_events(payloads: Mapping[EventName, type[Payload]]) -> None:
    """Register each name with its payload model. Registering a name again with the same model
    is a no-op (modules may be reloaded); with another model it is a ``ValueError``."""
    for name, model in payloads.items():
        if not isinstance(name, EventName):
            raise TypeError(f"{name!r}: event names are members of an EventName enumeration")
        if not (isinstance(model, type) and issubclass(model, Payload)):
            raise TypeError(f"{name}: the payload must be a Payload model, got {model!r}")
        if len(name.value) > MAX_NAME:
            raise ValueError(f"{name}: event names are at most {MAX_NAME} characters")
        known = _PAYLOADS.get(name.value)
        if known is not None and known is not model:
            raise ValueError(f"event {name} is already registered with {known.__name__}")
        _PAYLOADS[name.value], _NAMES[name.value] = model, name


def registered_names() -> frozenset[EventName]:
    return frozenset(_NAMES.values())


def event_name(value: str) -> EventName:
    """The registered name spelled ``value`` (``UnknownEvent`` when no slice registered it)."""
    try:
        return _NAMES[value]
    except KeyError:
        raise UnknownEvent(f"no event named {value!r} is registered") from None


def payload_model(name: str) -> type[Payload]:
    try:
        return _PAYLOADS[str(name)]
    except KeyError:
        raise UnknownEvent(f"no event named {str(name)!r} is registered") from None


@dataclass(frozen=True)
class Event:
    """One domain event: what happened (``name``, ``payload``), to what (``aggregate_type``,
    ``aggregate_id``, e.g. ``("incident", "MACERT-2026-000042")``) and by whom (``actor_id``, a
    user id, or ``actor_label`` for the system: ``cli:<login>``, ``system:<job>``).

    ``id`` and ``occurred_at`` are set on the events handlers receive (read from the table)."""

    name: EventName
    payload: Payload
    aggregate_type: str
    aggregate_id: str
    actor_id: int | None = None
    actor_label: str | None = None
    id: int | None = None
    occurred_at: dt.datetime | None = None

    @classmethod
    def of(
        cls, name: EventName, payload: Payload, *, aggregate: tuple[str, object], actor: Actor
    ) -> Event:
        """An event caused by ``actor``: a user is kept by id only, the system by its label."""
        kind, identity = aggregate
        label = actor.label if actor.user_id is None else None
        return cls(name, payload, kind, str(identity), actor.user_id, label)


HandlerFn = Callable[["Session", Event], None]
S = TypeVar("S")


@dataclass(frozen=True)
class SettingsNeed:
    """The settings a handler takes as third argument: those its slice's manifest built at
    start-up (``slice``: the slice's name, the key of ``JobContext.settings``), of type ``kind``."""

    slice: str
    kind: type

    def pick(self, settings: Mapping[str, object]) -> object:
        """This slice's settings among ``settings`` (keyed by slice name); ``LookupError`` when
        absent or of another type (a composition root that forgot them)."""
        found = settings.get(self.slice)
        if not isinstance(found, self.kind):
            raise LookupError(f"no {self.kind.__name__} settings for slice {self.slice!r}")
        return found


@dataclass(frozen=True)
class Handler:
    """A subscriber: ``fn(session, event)`` runs for each event whose name is in ``events``;
    one built by :meth:`with_settings` runs as ``fn(session, event, settings)`` with its slice's
    settings (:attr:`needs`), which the dispatcher is handed by the scheduler or the command
    line (:func:`core.events.dispatch.deliver_events`).

    ``name`` identifies its deliveries (keep it stable: renaming a handler makes it a new
    subscriber, which receives only the events recorded after it first runs). ``fn`` writes
    through ``session`` and never commits: the dispatcher commits its writes together with the
    delivery's ``done`` mark, or rolls both back when it raises."""

    name: str
    events: frozenset[EventName]
    fn: Callable[..., None]
    needs: SettingsNeed | None = None

    def __init__(self, name: str, events: set[EventName] | frozenset[EventName], fn: HandlerFn):
        self._set(name, events, fn, None)

    @classmethod
    def with_settings(
        cls,
        name: str,
        events: set[EventName] | frozenset[EventName],
        fn: Callable[[Session, Event, S], None],
        *,
        slice_name: str,
        kind: type[S],
    ) -> Handler:
        """A handler that takes the settings of slice ``slice_name`` (a ``kind``) as its third
        argument: typed where it is declared, checked by the dispatcher before it runs any."""
        handler = cls.__new__(cls)
        handler._set(name, events, fn, SettingsNeed(slice_name, kind))
        return handler

    def _set(
        self,
        name: str,
        events: set[EventName] | frozenset[EventName],
        fn: Callable[..., None],
        needs: SettingsNeed | None,
    ) -> None:
        if not name or len(name) > MAX_HANDLER_NAME or name != name.strip():
            raise ValueError(f"handler name must be 1 to {MAX_HANDLER_NAME} characters: {name!r}")
        if not events or not all(isinstance(e, EventName) for e in events):
            raise ValueError(f"handler {name}: events must be a non-empty set of EventName")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "events", frozenset(events))
        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "needs", needs)

    def run(self, session: Session, event: Event, settings: Mapping[str, object]) -> None:
        """Run ``fn`` on ``event``, with its slice's settings among ``settings`` if it takes
        them."""
        if self.needs is None:
            self.fn(session, event)
        else:
            self.fn(session, event, self.needs.pick(settings))
