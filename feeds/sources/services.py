"""Administering feeds (use cases, Flask-free; flush, never commit): add, change, enable,
disable, delete — leads only (``Role.LEAD`` and above), one audit row per change.

The rules of each field are :mod:`feeds.sources.schemas`'; the checks that need the database
(a unique name, a kind's required fields) are here. Input errors are
:class:`core.errors.ValidationFailed` naming each field, so the command line, the form and the
API say the same thing and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.errors import NotFound, ValidationFailed
from core.identity.authz import Actor, require
from core.identity.models import Role
from feeds.actions import FeedAction
from feeds.models import Feed, FeedRun
from feeds.sources.schemas import FeedIn, FeedOut, FeedSettingsIn, RunOut

M = TypeVar("M", bound=BaseModel)
SHOWN = (
    "kind",
    "url",
    "collection",
    "username",
    "password_env",
    "value_type",
    "column",
    "delimiter",
    "default_tlp",
    "confidence",
    "types",
    "interval_seconds",
    "enabled",
)


class _At:
    """A clock stopped at ``now`` (the audit rows' time)."""

    def __init__(self, now: dt.datetime) -> None:
        self._now = now

    def now(self) -> dt.datetime:
        return self._now


def validated(model: type[M], data: Mapping[str, Any] | BaseModel) -> M:
    """``data`` as ``model``, or :class:`ValidationFailed` naming every invalid field."""
    if isinstance(data, model):
        return data
    raw = data.model_dump() if isinstance(data, BaseModel) else dict(data)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors(include_url=False):
            name = ".".join(str(part) for part in error["loc"]) or "feed"
            message = error["msg"].removeprefix("Value error, ")
            fields[name] = f"{fields[name]}; {message}" if name in fields else message
        raise ValidationFailed("invalid feed", fields=fields) from None


def snapshot(feed: Feed) -> dict[str, Any]:
    """What the audit rows keep of a feed (never a secret: only the variable's name)."""
    return {name: getattr(feed, name) for name in SHOWN}


def find_feed(session: Session, name: str) -> Feed:
    """The feed called ``name``; :class:`NotFound` otherwise."""
    feed = session.scalar(select(Feed).where(Feed.name == name.strip().lower()))
    if feed is None:
        raise NotFound(f"no feed named {name!r}")
    return feed


def list_feeds(session: Session) -> list[Feed]:
    return list(session.scalars(select(Feed).order_by(Feed.name)))


def add_feed(
    session: Session, actor: Actor, data: Mapping[str, Any] | FeedIn, *, now: dt.datetime
) -> Feed:
    """A new feed (see :mod:`feeds.sources.schemas` for the rules of each field)."""
    require(actor, Role.LEAD, "adding a feed")
    given = validated(FeedIn, data)
    errors = given.check_kind(given.kind)
    if session.scalar(select(Feed.id).where(Feed.name == given.name)) is not None:
        errors["name"] = f"a feed named {given.name!r} already exists"
    if errors:
        raise ValidationFailed("invalid feed", fields=errors)
    feed = Feed(
        name=given.name,
        kind=given.kind,
        created_at=now,
        created_by_id=actor.user_id,
        last_counts={},
        **given.columns(given.kind),
    )
    try:
        with session.begin_nested():  # another lead adding the same name at the same moment
            session.add(feed)
    except IntegrityError:
        raise ValidationFailed(
            "invalid feed", fields={"name": f"a feed named {given.name!r} already exists"}
        ) from None
    audit.record(
        session, actor, FeedAction.CREATE, "feed", feed.id, clock=_At(now), after=snapshot(feed)
    )
    return feed


def update_feed(
    session: Session,
    actor: Actor,
    feed: Feed,
    data: Mapping[str, Any] | FeedSettingsIn,
    *,
    now: dt.datetime,
) -> Feed:
    """Change a feed's settings (not its name nor kind). A new URL or collection starts over
    from no checkpoint: the checkpoint belonged to the old source."""
    require(actor, Role.LEAD, "changing a feed")
    given = validated(FeedSettingsIn, data)
    errors = given.check_kind(feed.kind)
    if errors:
        raise ValidationFailed("invalid feed", fields=errors)
    before = snapshot(feed)
    columns = given.columns(feed.kind)
    if columns["url"] != feed.url or columns["collection"] != feed.collection:
        feed.checkpoint = None
    for name, value in columns.items():
        setattr(feed, name, value)
    after = snapshot(feed)
    if after != before:
        session.flush()
        changed = {k for k in after if after[k] != before[k]}
        audit.record(
            session,
            actor,
            FeedAction.UPDATE,
            "feed",
            feed.id,
            clock=_At(now),
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return feed


def set_enabled(
    session: Session, actor: Actor, feed: Feed, enabled: bool, *, now: dt.datetime
) -> bool:
    """Enable or disable ``feed``; whether it changed (audited only then)."""
    require(actor, Role.LEAD, "enabling or disabling a feed")
    if feed.enabled == enabled:
        return False
    feed.enabled = enabled
    session.flush()
    action = FeedAction.ENABLE if enabled else FeedAction.DISABLE
    audit.record(
        session,
        actor,
        action,
        "feed",
        feed.id,
        clock=_At(now),
        before={"enabled": not enabled},
        after={"enabled": enabled},
    )
    return True


def delete_feed(session: Session, actor: Actor, feed: Feed, *, now: dt.datetime) -> None:
    """Delete ``feed`` with its runs, indicators, objects and relations (foreign keys cascade)."""
    require(actor, Role.LEAD, "deleting a feed")
    before = snapshot(feed) | {"name": feed.name}
    feed_id = feed.id
    session.execute(delete(FeedRun).where(FeedRun.feed_id == feed_id))
    session.delete(feed)
    session.flush()
    audit.record(session, actor, FeedAction.DELETE, "feed", feed_id, clock=_At(now), before=before)


def next_poll_at(feed: Feed) -> dt.datetime | None:
    """When the scheduler polls ``feed`` next: ``None`` when it is disabled or manual; a feed
    never polled is due at once (its creation)."""
    if not feed.enabled or feed.interval_seconds is None:
        return None
    if feed.last_run_at is None:
        return feed.created_at
    return feed.last_run_at + dt.timedelta(seconds=feed.interval_seconds)


def is_due(feed: Feed, now: dt.datetime) -> bool:
    due = next_poll_at(feed)
    return due is not None and due <= now


def feed_out(feed: Feed) -> FeedOut:
    """What the API and ``cert feeds list --json`` show of a feed."""
    return FeedOut.model_validate(feed).model_copy(update={"next_poll_at": next_poll_at(feed)})


def run_out(run: FeedRun, feed_name: str) -> RunOut:
    """What the API and ``cert feeds runs --json`` show of a run."""
    values = {name: getattr(run, name) for name in RunOut.model_fields if name != "feed"}
    return RunOut.model_validate(values | {"feed": feed_name})
