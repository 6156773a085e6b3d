"""The intel package's subscribers to other slices' domain events (Flask-free), listed in the
slice manifest (:data:`incidents.slice.SLICE`) and run by the scheduler's ``events.deliver`` job.

``intel.retrohunt`` takes ``feed.indicators_changed`` (recorded by every feed run that added or
changed indicators) and matches the run's live indicators against the observables of the
incidents received in the last ``CERT_RETROHUNT_DAYS`` days before the event
(:func:`incidents.intel.retrohunt.hunt`), with the slice's settings built at start-up (the window,
``CERT_SLA_POLICY`` for the new due dates of a raised priority). The window and the indicators'
validity are judged at the event's time, so a delivery retried later finds the same; a
redelivery adds nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core.events import Event, Handler
from feeds.events import FeedEventName, IndicatorsChanged
from incidents.intel.retrohunt import hunt
from incidents.settings import IntakeSettings


def retrohunt(session: Session, event: Event, settings: IntakeSettings) -> None:
    payload = event.payload
    if not isinstance(payload, IndicatorsChanged):
        raise TypeError(f"{event.name}: not a feed run's changes")
    now = event.occurred_at or dt.datetime.now(dt.UTC)
    hunt(
        session,
        feed_id=payload.feed_id,
        since=payload.since,
        window_start=now - settings.retrohunt_window,
        now=now,
        settings=settings,
    )


HANDLERS: tuple[Handler, ...] = (
    Handler.with_settings(
        "intel.retrohunt",
        {FeedEventName.INDICATORS_CHANGED},
        retrohunt,
        slice_name="incidents",
        kind=IntakeSettings,
    ),
)
