"""The stored networks' prefix lengths (:mod:`feeds.index.prefixes`, migration 0028): written by
the store, read by the lookup (which probes only those lengths), and filled by the migration from
networks already stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cert import schema
from core.markings import Tlp
from feeds.index.lookup import match_observables
from feeds.index.prefixes import stored_prefixes
from feeds.index.store import store_records
from feeds.models import Feed, FeedKind, IndicatorPrefix
from feeds.rules.keys import Why, index_value
from feeds.rules.records import IndicatorRecord, Parsed
from tests.dbs import TestDatabase

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


def _net(ref: str, kind: str, value: str) -> IndicatorRecord:
    return IndicatorRecord(source_ref=ref, values=(index_value(kind, value),))


def test_the_store_records_each_length_once_and_the_lookup_finds_every_network(
    db_session: Session,
) -> None:
    feed = Feed(name="nets", kind=FeedKind.FILE, default_tlp=Tlp.GREEN, created_at=NOW)
    db_session.add(feed)
    db_session.flush()
    records = [
        _net("a", "ipv4", "203.0.113.0/24"),
        _net("b", "ipv4", "198.51.96.0/20"),
        _net("c", "ipv4", "192.0.2.0/24"),
        _net("d", "ipv6", "2001:db8:abcd::/48"),
        _net("e", "ipv4", "192.0.2.77"),  # an address: no length
    ]
    store_records(db_session, feed, Parsed("csv", indicators=records), now=NOW)
    store_records(db_session, feed, Parsed("csv", indicators=records), now=NOW)  # again
    rows = db_session.execute(select(IndicatorPrefix.kind, IndicatorPrefix.prefix)).all()
    assert sorted((k, p) for k, p in rows) == [("ipv4", 20), ("ipv4", 24), ("ipv6", 48)]
    assert stored_prefixes(db_session) == {20, 24, 48}
    results = match_observables(
        db_session,
        [("ipv4", "198.51.100.9"), ("ipv6", "2001:db8:abcd:1::5"), ("url", "http://203.0.113.5/x")],
        now=NOW,
    )
    assert [[(m.matched, m.why) for m in r] for r in results] == [
        [("198.51.96.0/20", Why.NETWORK)],
        [("2001:db8:abcd::/48", Why.NETWORK)],
        [("203.0.113.0/24", Why.URL_HOST)],
    ]


def test_the_migration_fills_the_lengths_of_networks_already_stored(
    fresh_database: TestDatabase,
) -> None:
    engine = fresh_database.engine
    schema.downgrade(engine, "0027")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO feeds (id, name, kind, default_tlp, confidence, types, enabled, "
                "last_counts, created_at) VALUES (1, 'old', 'file', 'TLP:GREEN', 50, '[]', "
                ":yes, '{}', :now)"
            ),
            {"yes": True, "now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO indicators (id, feed_id, source_ref, name, description, tlp, "
                "confidence, labels, indicator_types, kill_chain_phases, related, revoked, "
                "detect, created_at, updated_at) VALUES (1, 1, 'n', '', '', 'TLP:GREEN', 50, "
                "'[]', '[]', '[]', '[]', :no, :yes, :now, :now)"
            ),
            {"yes": True, "no": False, "now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO indicator_values (indicator_id, kind, value, net_first, net_last) "
                "VALUES (1, 'ipv4', '10.20.0.0/16', '0a140000', '0a14ffff'), "
                "(1, 'ipv4', '10.20.30.40', NULL, NULL)"
            )
        )
    schema.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, prefix FROM indicator_prefixes")).all()
    assert [tuple(r) for r in rows] == [("ipv4", 16)]
