"""The bulletins slice's durable domain events (Flask-free). ``bulletin.published`` is recorded
in the transaction of each publication (first or revision): distribution, the TAXII collection
and digests will hang off it."""

from __future__ import annotations

from core.events import EventName, Payload, register_events

AGGREGATE = "bulletin"


class BulletinEventName(EventName):
    PUBLISHED = "bulletin.published"


class Published(Payload):
    bulletin_id: int
    reference: str
    revision: int
    tlp: str


register_events({BulletinEventName.PUBLISHED: Published})
