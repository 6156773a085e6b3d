"""Other incidents named by what a viewer reads (Flask-free): every place that shows another
incident's reference — link, unlink and merge events, possible duplicates — names it only to
those who may see it (``incidents.access.visible``).

* :class:`References` answers "may this actor see the incident with this reference?" for many
  references at once: from the incidents already loaded when that is enough, else one query for
  those not asked yet (``incidents.access.visible``).
* :func:`event_data` is an event's data without the references its reader may not see; the keys
  removed are listed under ``hidden`` so that pages can say "an incident you cannot see".
* :func:`event_views` gives the timeline pages and the PDF report such redacted events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from core.identity.authz import Actor
from incidents.access import RED, can_see, sees_all_red, visible
from incidents.models import Incident, IncidentEvent

# event kind → the keys of its data that hold another incident's reference
NAMING: dict[str, tuple[str, ...]] = {
    "linked": ("reference",),
    "unlinked": ("reference",),
    "merged": ("from", "into"),
    "status": ("duplicate_of",),  # the original of an incident marked duplicate
}
BATCH = 500


class References:
    """Which incident references ``actor`` may see; answers cached for the request."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session, self.actor = session, actor
        self.everything = actor.is_system or (actor.is_cert_staff and sees_all_red(actor))
        self._known: dict[str, bool] = {}

    def _learn(self, references: Iterable[str]) -> None:
        asked = {r for r in references if r not in self._known}
        if asked:
            self._decide_loaded(asked)
        unknown = sorted(r for r in asked if r not in self._known)
        for start in range(0, len(unknown), BATCH):
            chunk = unknown[start : start + BATCH]
            query = select(Incident.reference).where(
                Incident.reference.in_(chunk), visible(self.actor)
            )
            seen = set(self.session.scalars(query))
            self._known.update((r, r in seen) for r in chunk)

    def _decide_loaded(self, unknown: set[str]) -> None:
        """Decide without a query for incidents already in the session (a page of a list names
        incidents of the same page), when what :func:`can_see` reads is loaded."""
        for row in list(self.session.identity_map.values()):
            if not isinstance(row, Incident):
                continue
            state, values = inspect(row), row.__dict__
            if values.get("reference") not in unknown or state.expired:
                continue
            if not {"organisation_id", "tlp", "assignee_id", "centre_id"} <= values.keys():
                continue
            scoped = self.actor.is_cert_staff and self.actor.centres is not None
            unloaded = state.unloaded
            if self.actor.is_cert_staff and row.tlp == RED and "participants" in unloaded:
                continue  # would load them: the query below decides
            if scoped and ("participants" in unloaded or "shares" in unloaded):
                continue
            self._known[row.reference] = can_see(self.actor, row)

    def visible(self, references: Iterable[str]) -> list[str]:
        """``references`` (in their order) without those the actor may not see."""
        wanted = list(references)
        if self.everything:
            return wanted
        self._learn(wanted)
        return [r for r in wanted if self._known[r]]

    def may_see(self, reference: str) -> bool:
        return bool(self.visible([reference]))

    def prepare(self, events: Iterable[IncidentEvent]) -> None:
        """Learn every reference the events name in one query (a page of the timeline)."""
        if not self.everything:
            self._learn(_named(events))


def _named(events: Iterable[IncidentEvent]) -> list[str]:
    return [
        str(event.data[key])
        for event in events
        for key in NAMING.get(event.kind, ())
        if isinstance(event.data.get(key), str)
    ]


def event_data(references: References, event: IncidentEvent) -> dict[str, Any]:
    """The event's data, without the references the reader may not see (listed in ``hidden``)."""
    data = dict(event.data)
    hidden = [
        key
        for key in NAMING.get(event.kind, ())
        if isinstance(data.get(key), str) and not references.may_see(data[key])
    ]
    for key in hidden:
        del data[key]
    if hidden:
        data["hidden"] = hidden
    return data


@dataclass(frozen=True)
class EventView:
    """A timeline event as one reader may see it (what pages and the PDF report render)."""

    id: int
    at: dt.datetime
    kind: str
    public: bool
    actor_label: str
    actor_name: str
    data: dict[str, Any]


def event_views(session: Session, actor: Actor, events: Sequence[IncidentEvent]) -> list[EventView]:
    references = References(session, actor)
    references.prepare(events)
    return [
        EventView(
            id=e.id,
            at=e.at,
            kind=e.kind,
            public=e.public,
            actor_label=e.actor_label,
            actor_name=e.actor_name,
            data=event_data(references, e),
        )
        for e in events
    ]
