"""The feeds slice's durable domain events (Flask-free): what other slices react to.

``feed.indicators_changed`` is recorded by every run that added or changed indicators, in the
run's transaction; the incidents slice's retro-hunt subscribes to it (a lower slice reaches a
higher one only through events). The payload carries ids and the run's start: the handler reads
the indicators changed since, in its own transaction.
"""

from __future__ import annotations

import datetime as dt

from core.events import EventName, Payload, register_events

AGGREGATE = "feed"


class FeedEventName(EventName):
    INDICATORS_CHANGED = "feed.indicators_changed"


class IndicatorsChanged(Payload):
    feed_id: int
    run_id: int
    since: dt.datetime  # indicators with updated_at >= since came from this run
    new: int
    updated: int


register_events({FeedEventName.INDICATORS_CHANGED: IndicatorsChanged})
