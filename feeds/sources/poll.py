"""Polling a feed (use case, Flask-free): read it page by page through its kind's puller
(:data:`feeds.sources.pullers.PULLERS`), store each page and commit it with the checkpoint it
reached, so that a failure keeps the pages already stored and the next poll resumes from the
last stored checkpoint (never re-importing everything).

The adapter (command, request, job) hands its unit of work (:class:`Transactions`): the poll
commits the run's start, each page with its checkpoint, then the run's outcome. An unreachable
source or a refused document (:class:`~feeds.sources.fetch.FetchError`,
:class:`~feeds.rules.records.NotThatKind`) makes the run ``failed`` with the message; nothing of
that page is stored, earlier pages are kept: the run is ``failed`` when nothing was stored,
``partial`` with the error when earlier pages were (:mod:`feeds.sources.runs`, which also
records ``feed.indicators_changed`` for the incidents' retro-hunt).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Protocol

from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.identity.authz import Actor, require
from core.identity.models import Role
from feeds.actions import FeedAction
from feeds.index.snapshot import expire_absent
from feeds.index.store import StoreCounts, store_records
from feeds.models import Feed, FeedKind, FeedRun, RunTrigger
from feeds.rules.records import NotThatKind
from feeds.sources.fetch import FetchError, Http
from feeds.sources.pullers import PULLERS
from feeds.sources.pulling import Puller
from feeds.sources.runs import REJECTIONS_KEPT, finish_run, start_run

log = logging.getLogger(__name__)
SUMMED = ("new", "updated", "unchanged", "revoked", "expired", "rejected", "skipped")


class Transactions(Protocol):
    """What the poll needs of its adapter's unit of work (:class:`core.uow.UnitOfWork`)."""

    @property
    def session(self) -> Session: ...

    def write(self) -> Session: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


def poll_feed(
    uow: Transactions,
    actor: Actor,
    feed: Feed,
    http: Http,
    *,
    clock: Clock,
    trigger: RunTrigger,
    pullers: Mapping[FeedKind, Puller] = PULLERS,
) -> FeedRun:
    """Poll ``feed`` now; the finished run (committed). Never raises for a source's fault;
    :class:`~core.errors.PermissionDenied` below a lead (before anything is written)."""
    require(actor, Role.LEAD, "polling a feed")
    session = uow.write()
    run = start_run(session, feed, trigger, now=clock.now(), document=feed.url)
    if trigger is not RunTrigger.SCHEDULE:
        audit.record(session, actor, FeedAction.POLL, "feed", feed.id, clock=clock)
    uow.commit()
    total = StoreCounts()
    stored, error = _pull(uow, feed, http, clock, pullers, total)
    session = uow.write()
    finish_run(session, run, total if stored else None, now=clock.now(), error=error)
    uow.commit()
    return run


def _pull(
    uow: Transactions,
    feed: Feed,
    http: Http,
    clock: Clock,
    pullers: Mapping[FeedKind, Puller],
    total: StoreCounts,
) -> tuple[int, str | None]:
    """Store every page the puller yields, one transaction each; how many pages were stored
    and the error that stopped it."""
    puller = pullers.get(feed.kind)
    if puller is None:
        return 0, f"{feed.kind.value} feeds cannot be polled"
    stored = 0
    try:
        for page in puller(feed, http):
            session = uow.write()
            now = clock.now()
            counts = store_records(session, feed, page.parsed, now=now)
            if page.snapshot:  # the source's whole list: what it no longer holds expires
                present = [record.source_ref for record in page.parsed.indicators]
                counts.expired += expire_absent(session, feed, present, now=now)
            if page.checkpoint is not None:
                feed.checkpoint = page.checkpoint
            session.flush()
            uow.commit()
            _add(total, counts)
            stored += 1
    except (FetchError, NotThatKind) as exc:
        uow.rollback()
        return stored, str(exc) or type(exc).__name__
    except Exception as exc:  # a defect must not leave the run "running" nor stop other feeds
        uow.rollback()
        log.exception("polling feed %s failed", feed.name)
        return stored, f"internal error: {type(exc).__name__}: {exc}"
    return stored, None


def _add(total: StoreCounts, page: StoreCounts) -> None:
    for name in SUMMED:
        setattr(total, name, getattr(total, name) + getattr(page, name))
    room = REJECTIONS_KEPT - len(total.rejections)
    if room > 0:
        total.rejections.extend(page.rejections[:room])
