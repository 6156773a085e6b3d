"""A poll as the feeds' poll service runs one, for tests of the pullers: each page stored
(:func:`feeds.index.store.store_records`), a snapshot's absentees expired
(:func:`feeds.index.snapshot.expire_absent`), the checkpoint moved, page by page."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from feeds.index.snapshot import expire_absent
from feeds.index.store import StoreCounts, store_records
from feeds.models import Feed
from feeds.sources.fetch import Http
from feeds.sources.pulling import Puller


def poll(
    session: Session, feed: Feed, puller: Puller, http: Http, *, now: dt.datetime
) -> list[StoreCounts]:
    """The counts of each page stored; an error raised part-way leaves the pages before it."""
    pages = []
    for pulled in puller(feed, http):
        counts = store_records(session, feed, pulled.parsed, now=now)
        if pulled.snapshot:
            present = [record.source_ref for record in pulled.parsed.indicators]
            counts.expired += expire_absent(session, feed, present, now=now)
        feed.checkpoint = pulled.checkpoint
        session.flush()
        pages.append(counts)
    return pages
