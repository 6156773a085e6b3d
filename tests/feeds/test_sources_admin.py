"""Administering feeds (:mod:`feeds.sources.services`) on both databases: the rules of each
field, leads only, audit rows, nothing half-written."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.identity.authz import Actor
from core.identity.models import User
from core.markings import Tlp
from feeds.models import Feed, FeedKind
from feeds.sources.services import (
    add_feed,
    delete_feed,
    find_feed,
    is_due,
    next_poll_at,
    set_enabled,
    update_feed,
)

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
CSV = {
    "name": "Abuse-IPs",
    "kind": "csv",
    "url": "https://lists.example.org/ips.csv",
    "value_type": "ipv4",
    "tlp": "white",
    "interval_seconds": 3600,
}


def _audit(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_lead_adds_a_csv_feed_with_defaults_and_an_audit_row(
    db_session: Session, lead: User
) -> None:
    feed = add_feed(db_session, Actor.for_user(lead), CSV, now=NOW)
    assert (feed.name, feed.kind, feed.value_type, feed.column, feed.delimiter) == (
        "abuse-ips",
        FeedKind.CSV,
        "ipv4",
        1,
        ",",
    )
    assert feed.default_tlp is Tlp.CLEAR, "legacy TLP:WHITE is TLP:CLEAR"
    assert (feed.confidence, feed.enabled, feed.created_by_id) == (50, True, lead.id)
    [row] = _audit(db_session, "feed.create")
    assert row.after is not None and row.after["url"] == CSV["url"]
    assert find_feed(db_session, "ABUSE-IPS ") is feed
    assert next_poll_at(feed) == NOW and is_due(feed, NOW)


def test_a_duplicate_name_is_a_clear_error(db_session: Session, lead: User) -> None:
    add_feed(db_session, Actor.for_user(lead), CSV, now=NOW)
    with pytest.raises(ValidationFailed) as caught:
        add_feed(db_session, Actor.for_user(lead), CSV | {"name": "abuse-ips"}, now=NOW)
    assert caught.value.fields == {"name": "a feed named 'abuse-ips' already exists"}


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"name": "abuse ips"}, "name", "only lower-case letters, digits"),
        ({"name": "x" * 65}, "name", "at most 64"),
        ({"kind": "file"}, "feed", "kind must be one of"),
        ({"url": "ftp://lists.example.org/ips"}, "url", "only http:// and https://"),
        ({"url": "https:///nohost"}, "url", "names no host"),
        ({"url": "https://a b.example/"}, "url", "no spaces"),
        ({"column": 0}, "column", "greater than or equal to 1"),
        ({"delimiter": ";;"}, "delimiter", "at most 1"),
        ({"tlp": "TLP:PURPLE"}, "tlp", "unknown TLP label"),
        ({"confidence": 101}, "confidence", "less than or equal to 100"),
        ({"interval_seconds": 30}, "interval_seconds", "greater than or equal to 60"),
        ({"interval_seconds": 31 * 86400}, "interval_seconds", "less than or equal"),
        ({"password_env": "hunter2!"}, "password_env", "never the secret itself"),
        ({"value_type": None}, "value_type", "required for a csv feed"),
        ({"value_type": "cve"}, "value_type", "cannot be listed"),
        ({"collection": "abc"}, "collection", "only for taxii"),
        ({"username": "reader"}, "password_env", "needs the variable"),
        ({"types": ["ipv4", "mac"]}, "types.1", "Input should be"),
    ],
)
def test_each_invalid_field_is_named_and_nothing_is_written(
    db_session: Session, lead: User, change: dict[str, object], field: str, says: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        add_feed(db_session, Actor.for_user(lead), CSV | change, now=NOW)
    assert field in caught.value.fields, caught.value.fields
    assert says in caught.value.fields[field]
    assert db_session.scalar(select(func.count()).select_from(Feed)) == 0


def test_taxii_needs_a_collection_and_others_refuse_list_settings(
    db_session: Session, lead: User
) -> None:
    actor = Actor.for_user(lead)
    with pytest.raises(ValidationFailed) as caught:
        add_feed(
            db_session, actor, {"name": "t", "kind": "taxii", "url": "https://t.example/"}, now=NOW
        )
    assert "collection" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        add_feed(
            db_session,
            actor,
            {"name": "s", "kind": "stix-url", "url": "https://s.example/b.json", "column": 2},
            now=NOW,
        )
    assert caught.value.fields == {"column": "only for csv feeds"}


def test_analysts_and_reporters_cannot_administer_feeds(
    db_session: Session, lead: User, analyst: User, reporter: User
) -> None:
    for user in (analyst, reporter):
        with pytest.raises(PermissionDenied):
            add_feed(db_session, Actor.for_user(user), CSV, now=NOW)
    feed = add_feed(db_session, Actor.for_user(lead), CSV, now=NOW)
    with pytest.raises(PermissionDenied):
        set_enabled(db_session, Actor.for_user(analyst), feed, False, now=NOW)
    with pytest.raises(PermissionDenied):
        delete_feed(db_session, Actor.for_user(analyst), feed, now=NOW)


def test_update_enable_disable_delete_are_audited(db_session: Session, lead: User) -> None:
    actor = Actor.for_user(lead)
    feed = add_feed(db_session, actor, CSV, now=NOW)
    feed.checkpoint = "kept"
    settings = CSV | {"interval_seconds": 7200}
    del settings["name"], settings["kind"]
    update_feed(db_session, actor, feed, settings, now=NOW)
    assert (feed.interval_seconds, feed.checkpoint) == (7200, "kept")
    [row] = _audit(db_session, "feed.update")
    assert (row.before, row.after) == ({"interval_seconds": 3600}, {"interval_seconds": 7200})
    update_feed(db_session, actor, feed, settings | {"url": "https://other.example/x"}, now=NOW)
    assert feed.checkpoint is None, "a new source starts from nothing"

    assert set_enabled(db_session, actor, feed, False, now=NOW)
    assert not set_enabled(db_session, actor, feed, False, now=NOW)
    assert next_poll_at(feed) is None
    assert len(_audit(db_session, "feed.disable")) == 1
    assert set_enabled(db_session, actor, feed, True, now=NOW)
    feed.last_run_at = NOW
    assert next_poll_at(feed) == NOW + dt.timedelta(hours=2)
    assert not is_due(feed, NOW + dt.timedelta(minutes=119))

    delete_feed(db_session, actor, feed, now=NOW)
    with pytest.raises(NotFound):
        find_feed(db_session, "abuse-ips")
    assert len(_audit(db_session, "feed.delete")) == 1


def test_two_leads_adding_the_same_name_at_once_get_a_field_error(
    db_session: Session, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique index decides when both passed the check: still a field error, not a 500."""
    add_feed(db_session, Actor.for_user(lead), CSV, now=NOW)
    real_scalar = db_session.scalar
    monkeypatch.setattr(db_session, "scalar", lambda *a, **k: None)  # the check saw nothing yet
    with pytest.raises(ValidationFailed) as caught:
        add_feed(db_session, Actor.for_user(lead), CSV, now=NOW)
    monkeypatch.setattr(db_session, "scalar", real_scalar)
    assert caught.value.fields == {"name": "a feed named 'abuse-ips' already exists"}
    assert db_session.scalar(select(func.count()).select_from(Feed)) == 1
    assert len(_audit(db_session, "feed.create")) == 1
