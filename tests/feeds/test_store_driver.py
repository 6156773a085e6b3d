"""The store's driver-level INSERT (:mod:`feeds.index.driver`) on both databases: what it writes
reads back through the ORM exactly as Core would have written it — timestamps in SQLAlchemy's
own stored form (compared as text on SQLite, and by ``valid_until > now`` queries), JSON, TLP
members, ids of values pointing at their own indicator, objects and relations."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from core.db import UtcDateTime
from core.markings import Tlp
from feeds.index.driver import Encoder, next_ids
from feeds.index.store import store_records
from feeds.models import Feed, FeedKind, Indicator, IndicatorValue, IntelObject, IntelRelation
from feeds.rules.keys import index_value
from feeds.rules.records import IndicatorRecord, ObjectRecord, Parsed, Related, RelationRecord

NOW = dt.datetime(2026, 12, 4, 12, 0, 0, 250, tzinfo=dt.UTC)
PARIS = dt.timezone(dt.timedelta(hours=1))
TIMES = {
    "valid_from": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=PARIS),  # no microseconds, not UTC
    "valid_until": dt.datetime(2026, 12, 4, 12, 0, 0, 251, tzinfo=dt.UTC),  # just after NOW
    "first_seen": dt.datetime(2025, 6, 7, 8, 9, 10, 123456, tzinfo=dt.UTC),
    "last_seen": dt.datetime(2026, 6, 7, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    "modified": dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC),
}


def _feed(session: Session) -> Feed:
    feed = Feed(name="driver", kind=FeedKind.FILE, default_tlp=Tlp.AMBER, created_at=NOW)
    session.add(feed)
    session.flush()
    return feed


def _full(ref: str, value: str, **extra: object) -> IndicatorRecord:
    fields: dict[str, object] = {
        "stix_id": ref,
        "name": "Échantillon « été »",
        "description": "فيروس\t\\N\\\n\r\nligne",
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "labels": ("malicious-activity", "Ünïcode"),
        "indicator_types": ("malicious-activity",),
        "kill_chain_phases": ("mitre-attack:initial-access",),
        "related": (Related("attack-pattern", "Phishing", "T1566", "attack-pattern--1"),),
        **TIMES,
        **extra,
    }
    return IndicatorRecord(source_ref=ref, values=(index_value("ipv4", value),), **fields)  # type: ignore[arg-type]


def test_new_indicators_read_back_as_stored(db_session: Session) -> None:
    feed = _feed(db_session)
    records = [
        _full("indicator--a", "198.51.100.7"),
        _full("indicator--b", "198.51.100.8", tlp=Tlp.RED, confidence=90, detect=False),
        IndicatorRecord(
            source_ref="ipv4:203.0.113.0/24", values=(index_value("ipv4", "203.0.113.0/24"),)
        ),
    ]
    counts = store_records(db_session, feed, Parsed("stix", indicators=records), now=NOW)
    assert counts.new == 3
    db_session.expire_all()
    stored = {i.source_ref: i for i in db_session.scalars(select(Indicator))}
    a, b, net = stored["indicator--a"], stored["indicator--b"], stored["ipv4:203.0.113.0/24"]
    for name, value in TIMES.items():
        assert getattr(a, name) == value
        assert getattr(a, name).tzinfo == dt.UTC
    assert (a.created_at, a.updated_at) == (NOW, NOW)
    assert a.name == "Échantillon « été »" and a.description == "فيروس\t\\N\\\n\r\nligne"
    assert a.labels == ["malicious-activity", "Ünïcode"]
    assert a.kill_chain_phases == ["mitre-attack:initial-access"]
    assert a.related == [
        {
            "type": "attack-pattern",
            "name": "Phishing",
            "external_id": "T1566",
            "stix_id": "attack-pattern--1",
        }
    ]
    assert (a.tlp, a.confidence, a.detect, a.revoked) == (Tlp.AMBER, 50, True, False)
    assert isinstance(a.tlp, Tlp)
    assert (b.tlp, b.confidence, b.detect) == (Tlp.RED, 90, False)
    assert (net.labels, net.related, net.valid_from, net.modified) == ([], [], None, None)
    values = {v.value: v for v in db_session.scalars(select(IndicatorValue))}
    assert values["198.51.100.7"].indicator_id == a.id
    assert values["198.51.100.8"].indicator_id == b.id
    assert values["203.0.113.0/24"].indicator_id == net.id
    network = values["203.0.113.0/24"]
    assert network.net_first is not None and network.net_last is not None
    assert network.net_first < network.net_last


def test_time_comparisons_in_sql_see_the_same_instants(db_session: Session) -> None:
    """``valid_until`` 1 µs after NOW (and 1 µs before) compares right in SQL against a bound
    NOW — the stored text must sort as SQLAlchemy's would."""
    feed = _feed(db_session)
    before = dict(TIMES, valid_until=NOW - dt.timedelta(microseconds=1))
    records = [
        _full("indicator--live", "198.51.100.9"),
        _full("indicator--gone", "198.51.100.10", **before),
    ]
    store_records(db_session, feed, Parsed("stix", indicators=records), now=NOW)
    live = db_session.scalars(select(Indicator.source_ref).where(Indicator.valid_until > NOW)).all()
    assert live == ["indicator--live"]
    later = db_session.scalars(
        select(Indicator.source_ref).where(
            Indicator.valid_from < dt.datetime(2026, 1, 2, 2, 4, 6, tzinfo=dt.UTC)
        )
    ).all()
    assert sorted(later) == ["indicator--gone", "indicator--live"]


def test_timestamps_are_the_text_core_writes(db_session: Session) -> None:
    """Byte for byte on SQLite (and the same instant on PostgreSQL): a row inserted through
    Core next to one inserted by the driver path."""
    feed = _feed(db_session)
    store_records(
        db_session,
        feed,
        Parsed("stix", indicators=[_full("indicator--d", "198.51.100.11")]),
        now=NOW,
    )
    db_session.execute(
        insert(Indicator),
        [
            {
                "feed_id": feed.id,
                "source_ref": "core",
                "tlp": Tlp.AMBER,
                "created_at": NOW,
                "updated_at": NOW,
                **TIMES,
            }
        ],
    )
    columns = ", ".join([*TIMES, "created_at"])
    rows = db_session.execute(text(f"SELECT {columns} FROM indicators ORDER BY source_ref")).all()  # noqa: S608
    assert rows[0] == rows[1]
    if db_session.get_bind().dialect.name == "sqlite":
        assert rows[0][0] == "2026-01-02 02:04:05.000000"


def test_objects_and_relations_through_the_driver(db_session: Session) -> None:
    feed = _feed(db_session)
    parsed = Parsed(
        "stix",
        objects=[
            ObjectRecord(
                stix_id="malware--1",
                type="malware",
                name="Emotet",
                aliases=("Geodo",),
                data={"is_family": True, "nested": {"k": [1, 2]}},
                modified=TIMES["modified"],
            )
        ],
        relations=[
            RelationRecord(
                source_ref="indicator--a",
                relationship_type="indicates",
                target_ref="malware--1",
                stix_id="relationship--1",
                modified=TIMES["last_seen"],
            )
        ],
    )
    counts = store_records(db_session, feed, parsed, now=NOW)
    assert (counts.objects, counts.relations) == (1, 1)
    db_session.expire_all()
    malware = db_session.scalars(select(IntelObject)).one()
    assert (malware.aliases, malware.data, malware.tlp) == (
        ["Geodo"],
        {"is_family": True, "nested": {"k": [1, 2]}},
        Tlp.AMBER,
    )
    assert (malware.modified, malware.updated_at) == (TIMES["modified"], NOW)
    relation = db_session.scalars(select(IntelRelation)).one()
    assert (relation.modified, relation.revoked) == (TIMES["last_seen"], False)


def test_reserved_ids_follow_the_stored_ones(db_session: Session) -> None:
    feed = _feed(db_session)
    store_records(
        db_session,
        feed,
        Parsed("stix", indicators=[_full("indicator--e", "198.51.100.12")]),
        now=NOW,
    )
    last = db_session.scalar(select(Indicator.id).where(Indicator.source_ref == "indicator--e"))
    assert last is not None
    ids = next_ids(db_session, Indicator.__table__, 3)  # type: ignore[arg-type]
    assert ids[0] > last and ids == list(range(ids[0], ids[0] + 3))


def test_naive_timestamps_are_refused_as_by_the_column_type(db_session: Session) -> None:
    with pytest.raises(ValueError, match="naive"):
        Encoder(db_session).time(dt.datetime(2026, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(5, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        dt.datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=-9, minutes=-30))),
        dt.datetime(2026, 12, 31, 23, 0, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),
        dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(0), "Z")),
    ],
)
def test_encoded_times_equal_the_column_types_own(db_session: Session, value: dt.datetime) -> None:
    """SQLite: the very text SQLAlchemy writes; PostgreSQL: text the server reads as the same
    ``timestamptz`` instant."""
    dialect = db_session.get_bind().dialect
    encoded = Encoder(db_session).time(value)
    if dialect.name == "sqlite":
        core = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
        assert core is not None
        assert encoded == core(value)
    else:
        read = db_session.execute(
            text("SELECT CAST(:t AS timestamptz)"), {"t": encoded}
        ).scalar_one()
        assert read == value
