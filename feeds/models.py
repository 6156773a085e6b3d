"""The feeds slice's tables (typed ORM, Flask-free; migration 0020).

* ``feeds``: a source of threat intelligence — kind, location, defaults (TLP, confidence, types
  kept), polling interval, credentials *by environment variable name* (never the secret), the
  checkpoint of incremental polls (TAXII ``added_after``, MISP feed timestamp), last run.
* ``feed_runs``: one row per import or poll, with its counts and its rejections.
* ``indicators``: one per (feed, ``source_ref``) — a STIX indicator, a MISP attribute, a
  blocklist line — with its context, validity and version (``modified``).
* ``indicator_values``: the match index, one row per matchable value of an indicator:
  ``(kind, value)`` in canonical spelling (an equality serves exact values, networks by their
  enumerated prefixes and parent domains); networks also keep their first and last address as
  32-hex-digit integers (``net_first``, ``net_last``: IPv4 and IPv6 in one comparable form).
* ``intel_objects``: STIX domain objects giving context (malware, intrusion sets, campaigns,
  ATT&CK techniques, vulnerabilities…), keyed by (feed, STIX id).
* ``intel_relations``: STIX relationships between them and indicators.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, StrEnumType
from core.markings import Tlp


class FeedKind(enum.StrEnum):
    STIX_URL = "stix-url"  # a STIX 2.1 bundle at an HTTP(S) URL
    TAXII = "taxii"  # a TAXII 2.1 collection
    MISP_FEED = "misp-feed"  # a MISP feed: manifest.json + one <uuid>.json per event
    CSV = "csv"  # a text (one value per line) or CSV blocklist at a URL
    FILE = "file"  # documents imported by hand (`cert feeds import`, the upload form)


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # every object accepted
    PARTIAL = "partial"  # some objects rejected, the valid ones kept
    FAILED = "failed"  # nothing changed (unreachable, refused document…)


class RunTrigger(enum.StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"  # a lead's button or POST /api/v1/feeds/<name>/poll
    CLI = "cli"
    IMPORT = "import"  # a file imported by hand


class Feed(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[FeedKind] = mapped_column(StrEnumType(FeedKind, 16))
    url: Mapped[str | None] = mapped_column(String(2048))
    collection: Mapped[str | None] = mapped_column(String(200))  # TAXII collection id
    username: Mapped[str | None] = mapped_column(String(200))
    password_env: Mapped[str | None] = mapped_column(String(100))  # a variable's NAME
    default_tlp: Mapped[Tlp] = mapped_column(StrEnumType(Tlp, 20))
    confidence: Mapped[int] = mapped_column(default=50)  # 0–100, for objects without one
    types: Mapped[list[str]] = mapped_column(JSON, default=list)  # kept types; empty = all
    value_type: Mapped[str | None] = mapped_column(String(16))  # csv: the values' type
    column: Mapped[int | None]  # csv: 1-based column of the value
    delimiter: Mapped[str | None] = mapped_column(String(1))  # csv: the column delimiter
    interval_seconds: Mapped[int | None]  # None: polled by hand only
    enabled: Mapped[bool] = mapped_column(default=True)
    checkpoint: Mapped[str | None] = mapped_column(String(64))  # TAXII date / MISP timestamp
    last_run_at: Mapped[dt.datetime | None]
    last_status: Mapped[RunStatus | None] = mapped_column(StrEnumType(RunStatus, 16))
    last_counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class FeedRun(Base):
    __tablename__ = "feed_runs"
    __table_args__ = (Index("ix_feed_runs_feed_id_id", "feed_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    trigger: Mapped[RunTrigger] = mapped_column(StrEnumType(RunTrigger, 16))
    status: Mapped[RunStatus] = mapped_column(StrEnumType(RunStatus, 16))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    document: Mapped[str | None] = mapped_column(String(300))  # file name or URL read
    new: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    revoked: Mapped[int] = mapped_column(default=0)
    expired: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)  # objects of types the index does not keep
    rejections: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # first 1,000
    error: Mapped[str | None] = mapped_column(Text)
    checkpoint_before: Mapped[str | None] = mapped_column(String(64))
    checkpoint_after: Mapped[str | None] = mapped_column(String(64))

    feed: Mapped[Feed] = relationship()

    def counts(self) -> dict[str, int]:
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "revoked": self.revoked,
            "expired": self.expired,
            "rejected": self.rejected,
        }


class Indicator(Base):
    __tablename__ = "indicators"
    __table_args__ = (
        UniqueConstraint("feed_id", "source_ref"),
        Index("ix_indicators_updated_at", "updated_at"),  # retro-hunt: what changed since
        # the intel pages: a feed's indicators, newest first, by keyset (migration 0026)
        Index("ix_indicators_feed_id_id", "feed_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    source_ref: Mapped[str] = mapped_column(String(200))
    stix_id: Mapped[str | None] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    pattern: Mapped[str | None] = mapped_column(Text)
    pattern_type: Mapped[str | None] = mapped_column(String(32))
    tlp: Mapped[Tlp] = mapped_column(StrEnumType(Tlp, 20))
    confidence: Mapped[int] = mapped_column(default=50)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    indicator_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    kill_chain_phases: Mapped[list[str]] = mapped_column(JSON, default=list)
    related: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    valid_from: Mapped[dt.datetime | None]
    valid_until: Mapped[dt.datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)
    detect: Mapped[bool] = mapped_column(default=True)  # MISP to_ids
    first_seen: Mapped[dt.datetime | None]
    last_seen: Mapped[dt.datetime | None]
    modified: Mapped[dt.datetime | None]  # the source's version
    created_at: Mapped[dt.datetime]  # first imported
    updated_at: Mapped[dt.datetime]  # last imported with a change

    feed: Mapped[Feed] = relationship(lazy="joined")


class IndicatorValue(Base):
    __tablename__ = "indicator_values"
    __table_args__ = (
        # the lookup: WHERE kind = :k AND value IN (…) — leading columns match the predicate
        Index("ix_indicator_values_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicators.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(2048))
    net_first: Mapped[str | None] = mapped_column(String(32))  # networks: first address, hex
    net_last: Mapped[str | None] = mapped_column(String(32))  # and last


class IndicatorPrefix(Base):
    """The prefix lengths of the networks the index holds, per kind (``ipv4`` 24, ``ipv6`` 48):
    a lookup probes an address's networks of these lengths only, not all 24 (IPv4) or 112
    (IPv6). Written by the store with the values; never deleted (a length no network has any
    more costs a probe, not a wrong answer)."""

    __tablename__ = "indicator_prefixes"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    prefix: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class IntelObject(Base):
    __tablename__ = "intel_objects"
    __table_args__ = (UniqueConstraint("feed_id", "stix_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    stix_id: Mapped[str] = mapped_column(String(100), index=True)
    type: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)  # T1566, CVE-…
    description: Mapped[str] = mapped_column(Text, default="")
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    tlp: Mapped[Tlp] = mapped_column(StrEnumType(Tlp, 20))
    revoked: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    modified: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime]


class IntelRelation(Base):
    __tablename__ = "intel_relations"
    __table_args__ = (
        UniqueConstraint("feed_id", "source_ref", "relationship_type", "target_ref"),
        Index("ix_intel_relations_target_ref", "target_ref"),
        Index("ix_intel_relations_source_ref", "source_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    stix_id: Mapped[str | None] = mapped_column(String(100))
    source_ref: Mapped[str] = mapped_column(String(100))
    relationship_type: Mapped[str] = mapped_column(String(64))
    target_ref: Mapped[str] = mapped_column(String(100))
    revoked: Mapped[bool] = mapped_column(default=False)
    modified: Mapped[dt.datetime | None]
