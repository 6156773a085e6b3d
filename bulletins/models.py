"""The bulletins slice's tables (typed ORM, Flask-free; migration 0031).

* ``bulletins``: an advisory after the maCERT model (``standards.md`` §8) — kind, workflow
  status, TLP, risk and impact levels, affected systems, CVE ids, references, indicators (JSON
  lists), who wrote, approved and published it. ``reference`` (``<PREFIX>-<TYPE>-<YEAR>-<NNNN>``,
  e.g. ``MACERT-AVI-2026-0042``) is given at publication from ``bulletin_counters``, so the
  published numbers of a kind and year have no gap; a draft has none.
* ``bulletin_texts``: the text of each language version (French required; English and Arabic
  optional): title, summary, solution, risks.
* ``bulletin_revisions``: every publication of a bulletin, numbered from 1, with its change
  summary and a snapshot of what was published — a published bulletin is updated by a new
  revision, never edited in place.
* ``bulletin_counters``: the last number given per (kind, year).
* ``bulletin_incidents``: the incidents a bulletin was written from.

Audience and distribution (migration 0032):

* ``bulletin_organisations``: the organisations a bulletin is about ("concerned"): who may
  receive a ``TLP:AMBER`` / ``TLP:AMBER+STRICT`` bulletin, and read it in Vigie;
* ``distribution_lists`` (per organisation, per sector, all administrations, or named
  individuals) with ``distribution_list_members`` (the named individuals of a named list, or the
  extra addresses an organisation subscribes to its own list) and ``distribution_unsubscribes``
  (addresses that left a list's digests);
* ``bulletin_lists``: the lists a bulletin is sent to when published;
* ``bulletin_deliveries``: one row per recipient and publication (revision), pointing at the
  outbox message that carries it: the per-recipient delivery status, and who was sent what;
* ``digest_runs``: one row per list, frequency and period whose digest was queued — the
  unique key makes a digest go out once per period even across scheduler restarts.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, StrEnumType

MAX_TITLE = 300


class BulletinKind(enum.StrEnum):
    ADVISORY = "advisory"  # vulnerability advisory (avis): AVI
    ALERT = "alert"  # active threat: ALE
    NOTE = "note"  # security note with indicators: NOT
    DIGEST = "digest"  # weekly digest: DIG

    @property
    def code(self) -> str:
        return {"advisory": "AVI", "alert": "ALE", "note": "NOT", "digest": "DIG"}[self.value]


class BulletinStatus(enum.StrEnum):
    DRAFT = "draft"
    REVIEW = "review"  # submitted: waits for a second person's approval
    APPROVED = "approved"
    PUBLISHED = "published"


class RiskLevel(enum.StrEnum):
    """maCERT's ``Niveau de Risque`` (and of impact): Critique, Important, Modéré, Faible."""

    CRITICAL = "critical"
    IMPORTANT = "important"
    MODERATE = "moderate"
    LOW = "low"


class BulletinSource(enum.StrEnum):
    SCRATCH = "scratch"
    INCIDENTS = "incidents"
    CVES = "cves"
    CSAF = "csaf"


class Bulletin(Base):
    __tablename__ = "bulletins"
    __table_args__ = (
        Index("ix_bulletins_status_published", "status", "published_at"),
        Index("ix_bulletins_kind_year_number", "kind", "year", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(64), unique=True)  # at publication
    kind: Mapped[BulletinKind] = mapped_column(StrEnumType(BulletinKind, 16))
    year: Mapped[int | None]  # of the reference
    number: Mapped[int | None]  # of the reference, gap-free per (kind, year)
    status: Mapped[BulletinStatus] = mapped_column(StrEnumType(BulletinStatus, 16))
    source: Mapped[BulletinSource] = mapped_column(StrEnumType(BulletinSource, 16))
    tlp: Mapped[str] = mapped_column(String(32))
    # the TLP of the last publication: who may read the bulletin (bulletins.access) while a
    # revision in progress changes ``tlp`` (migration 0034)
    published_tlp: Mapped[str | None] = mapped_column(String(32))
    risk: Mapped[RiskLevel] = mapped_column(StrEnumType(RiskLevel, 16))
    impact: Mapped[RiskLevel] = mapped_column(StrEnumType(RiskLevel, 16))
    # [{"vendor", "product", "versions"}], ["CVE-…"], ["https://…"], [{"type", "value"}]
    affected: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    cves: Mapped[list[str]] = mapped_column(JSON, default=list)
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # [{"cve": "CVE-…" | None, "version": "3.1", "base_score": 9.8, "vector": "CVSS:3.1/…"}]
    scores: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # where a draft came from: a CSAF advisory's URL or file name and tracking id, incidents…
    source_ref: Mapped[str | None] = mapped_column(String(500))
    revision: Mapped[int] = mapped_column(default=0)  # the last published revision (0: never)
    created_at: Mapped[dt.datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None]
    published_at: Mapped[dt.datetime | None]  # first publication
    revised_at: Mapped[dt.datetime | None]  # last publication

    texts: Mapped[list[BulletinText]] = relationship(
        back_populates="bulletin", cascade="all, delete-orphan", order_by="BulletinText.language"
    )

    def text(self, language: str) -> BulletinText | None:
        return next((t for t in self.texts if t.language == language), None)


class BulletinText(Base):
    __tablename__ = "bulletin_texts"
    __table_args__ = (UniqueConstraint("bulletin_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))  # fr, en, ar
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    summary: Mapped[str] = mapped_column(Text, default="")
    solution: Mapped[str] = mapped_column(Text, default="")
    risks: Mapped[str] = mapped_column(Text, default="")

    bulletin: Mapped[Bulletin] = relationship(back_populates="texts")


class BulletinRevision(Base):
    __tablename__ = "bulletin_revisions"
    __table_args__ = (UniqueConstraint("bulletin_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    number: Mapped[int]
    summary: Mapped[str] = mapped_column(String(500))  # "Version initiale", what changed
    published_at: Mapped[dt.datetime]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class BulletinCounter(Base):
    __tablename__ = "bulletin_counters"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class BulletinIncident(Base):
    __tablename__ = "bulletin_incidents"

    bulletin_id: Mapped[int] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), primary_key=True
    )
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class BulletinOrganisation(Base):
    """An organisation a bulletin is about (its ``TLP:AMBER`` audience)."""

    __tablename__ = "bulletin_organisations"

    bulletin_id: Mapped[int] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class BulletinPublishedOrganisation(Base):
    """An organisation the bulletin was about at its last publication: the ``TLP:AMBER`` readers
    while a revision in progress changes the concerned organisations (migration 0034)."""

    __tablename__ = "bulletin_published_organisations"

    bulletin_id: Mapped[int] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ListKind(enum.StrEnum):
    ORGANISATION = "organisation"  # an organisation's registered contacts (+ its extra addresses)
    SECTOR = "sector"  # the registered contacts of every constituent of a sector
    ALL = "all"  # the registered contacts of every constituent administration
    CENTRE = "centre"  # the registered contacts of a vigilance centre's constituency
    NAMED = "named"  # named individuals (the only recipients of TLP:RED)


class DigestFrequency(enum.StrEnum):
    NONE = "none"  # bulletins are sent as published only
    DAILY = "daily"
    WEEKLY = "weekly"


class DistributionList(Base):
    __tablename__ = "distribution_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ListKind] = mapped_column(StrEnumType(ListKind, 16))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )  # kind organisation
    sector: Mapped[str | None] = mapped_column(String(64))  # kind sector
    centre_id: Mapped[int | None] = mapped_column(
        ForeignKey("centres.id", ondelete="CASCADE"), index=True
    )  # kind centre
    digest: Mapped[DigestFrequency] = mapped_column(StrEnumType(DigestFrequency, 16))
    language: Mapped[str] = mapped_column(String(8), default="fr")  # when a recipient has none
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    members: Mapped[list[ListMember]] = relationship(
        back_populates="distribution", cascade="all, delete-orphan", order_by="ListMember.email"
    )


class ListMember(Base):
    """A named individual of a named list, or an extra address of an organisation's list."""

    __tablename__ = "distribution_list_members"
    __table_args__ = (UniqueConstraint("list_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("distribution_lists.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))  # lower-case
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str | None] = mapped_column(String(8))  # fr, en, ar; None: the list's
    # the organisation the person belongs to (TLP:AMBER gating); None: outside the constituency
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]

    distribution: Mapped[DistributionList] = relationship(back_populates="members")


class ListUnsubscribe(Base):
    """An address that left a list's digests (alerts to security contacts still reach it)."""

    __tablename__ = "distribution_unsubscribes"
    __table_args__ = (UniqueConstraint("list_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("distribution_lists.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime]


class BulletinList(Base):
    """A list a bulletin goes to when it is published."""

    __tablename__ = "bulletin_lists"

    bulletin_id: Mapped[int] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), primary_key=True
    )
    list_id: Mapped[int] = mapped_column(
        ForeignKey("distribution_lists.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class BulletinDelivery(Base):
    """One recipient of one publication (revision) of a bulletin, and its outbox message."""

    __tablename__ = "bulletin_deliveries"
    __table_args__ = (
        UniqueConstraint("bulletin_id", "revision", "email"),
        Index("ix_bulletin_deliveries_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    revision: Mapped[int]
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    list_id: Mapped[int | None] = mapped_column(
        ForeignKey("distribution_lists.id", ondelete="SET NULL")
    )
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime]


class DigestRun(Base):
    """A digest queued for one list and period (its local start date): at most once."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("list_id", "frequency", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("distribution_lists.id", ondelete="CASCADE"))
    frequency: Mapped[DigestFrequency] = mapped_column(StrEnumType(DigestFrequency, 16))
    period_start: Mapped[dt.date] = mapped_column(Date)
    bulletins: Mapped[int] = mapped_column(default=0)
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime]


class DigestDelivery(Base):
    """One recipient of one digest (:class:`DigestRun`), and its outbox message: what the list's
    digest page shows, as a publication's deliveries show on the bulletin's."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("run_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("digest_runs.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    bulletins: Mapped[int] = mapped_column(default=0)  # how many this recipient's digest lists
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime]
