"""Importing a document by hand (use case, Flask-free; flushes, never commits):
``cert feeds import PATH [--feed NAME]`` and the upload form.

Documents: a STIX 2.1 bundle, a MISP event (or MISP's REST search export), a text or CSV list
(a ``csv`` feed's own column, delimiter and value type; else column 1, the delimiter found, the
type of each value guessed). A list imported by hand is not a snapshot: nothing expires for
being absent from it.

:func:`import_document` recognises the document from its content
(:func:`feeds.rules.detect.decode`), parses it, stores it in the feed's part of the index
(:func:`feeds.index.store.store_records`) and records a run (``trigger`` ``import``) and an
audit row. Without a feed name it goes to the feed ``manual`` (kind ``file``, TLP:AMBER by
default), created on first use.

A document that is not what it claims to be — not a feed document at all (empty, binary, an
HTML page), or not of the feed's kind (a MISP event given to a STIX feed) — is refused with
:class:`ImportRefused` before anything is written: no run row, no feed created.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.clock import FrozenClock
from core.errors import DomainError
from core.identity.authz import Actor
from core.markings import DEFAULT_TLP
from feeds.actions import FeedAction
from feeds.index.store import store_records
from feeds.models import Feed, FeedKind, FeedRun, RunTrigger
from feeds.rules import blocklist, misp, stix
from feeds.rules.detect import decode, list_delimiter
from feeds.rules.records import NotThatKind, Parsed
from feeds.sources.runs import finish_run, start_run

MANUAL = "manual"
# the document kinds each kind of feed reads
READS: dict[FeedKind, frozenset[str]] = {
    FeedKind.STIX_URL: frozenset({"stix"}),
    FeedKind.TAXII: frozenset({"stix"}),
    FeedKind.MISP_FEED: frozenset({"misp-event"}),
    FeedKind.CSV: frozenset({"csv", "text"}),
    FeedKind.FILE: frozenset({"stix", "misp-event", "csv", "text"}),
}


class ImportRefused(DomainError):
    """The document (or the feed named) cannot be imported; nothing was written."""

    code = "import_refused"
    status = 422


def import_document(
    session: Session,
    actor: Actor,
    data: bytes,
    *,
    name: str,
    feed_name: str | None,
    now: dt.datetime,
) -> FeedRun:
    """Import ``data`` (read from ``name``) into ``feed_name`` or ``manual``; the run, finished."""
    feed = _feed(session, feed_name)
    kind = feed.kind if feed is not None else FeedKind.FILE
    parsed = parse_document(data, name=name, feed=feed, reads=READS[kind])
    if feed is None:
        feed = create_file_feed(session, actor, MANUAL, now=now)
    run = start_run(session, feed, RunTrigger.IMPORT, now=now, document=name)
    counts = store_records(session, feed, parsed, now=now)
    finish_run(session, run, counts, now=now)
    audit.record(
        session,
        actor,
        FeedAction.IMPORT,
        "feed",
        feed.name,
        clock=FrozenClock(now),
        after={"document": name[:300], "run": run.id, "kind": parsed.kind, **run.counts()},
    )
    return run


def parse_document(data: bytes, *, name: str, feed: Feed | None, reads: frozenset[str]) -> Parsed:
    """What ``data`` holds, if it is one of the kinds ``reads``; :class:`ImportRefused`."""
    try:
        kind, content = decode(data)
        if kind == "misp-manifest":
            raise NotThatKind(
                "a MISP feed manifest (manifest.json): add the feed's URL as a misp-feed feed"
            )
        if kind not in reads:
            raise NotThatKind(f"a {kind} document; this feed reads {', '.join(sorted(reads))}")
        return _parse(kind, content, feed)
    except NotThatKind as exc:
        raise ImportRefused(f"{name}: {exc}") from None


def _parse(kind: str, content: Any, feed: Feed | None) -> Parsed:
    if kind == "stix":
        return stix.parse_objects(stix.bundle_objects(content))
    if kind == "misp-event":
        return misp.parse_event(content)
    if feed is not None and feed.kind is FeedKind.CSV:  # the feed says how to read its lines
        return blocklist.parse_list(
            content, value_type=feed.value_type, column=feed.column or 1, delimiter=feed.delimiter
        )
    return blocklist.parse_list(
        content,
        value_type=None,
        column=1,
        delimiter=list_delimiter(content) if kind == "csv" else None,
    )


def _feed(session: Session, feed_name: str | None) -> Feed | None:
    name = feed_name or MANUAL
    feed = session.scalars(select(Feed).where(Feed.name == name)).one_or_none()
    if feed is None and feed_name is not None and feed_name != MANUAL:
        raise ImportRefused(f"no feed named {feed_name!r}")
    return feed


def create_file_feed(session: Session, actor: Actor, name: str, *, now: dt.datetime) -> Feed:
    """A feed of documents imported by hand (kind ``file``, TLP:AMBER by default), audited."""
    feed = Feed(
        name=name,
        kind=FeedKind.FILE,
        default_tlp=DEFAULT_TLP,
        confidence=50,
        types=[],
        last_counts={},
        created_at=now,
        created_by_id=actor.user_id,
    )
    session.add(feed)
    session.flush()
    after = {"kind": feed.kind.value, "default_tlp": feed.default_tlp.value}
    audit.record(
        session, actor, FeedAction.CREATE, "feed", name, clock=FrozenClock(now), after=after
    )
    return feed
