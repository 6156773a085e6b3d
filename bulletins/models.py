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
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
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
    risk: Mapped[RiskLevel] = mapped_column(StrEnumType(RiskLevel, 16))
    impact: Mapped[RiskLevel] = mapped_column(StrEnumType(RiskLevel, 16))
    # [{"vendor", "product", "versions"}], ["CVE-…"], ["https://…"], [{"type", "value"}]
    affected: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    cves: Mapped[list[str]] = mapped_column(JSON, default=list)
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
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
