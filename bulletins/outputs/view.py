"""What a bulletin shows (Flask-free read model): :class:`BulletinView`, the one input of every
rendition (HTML page and e-mail, text, PDF, CSAF, STIX, API answer, feed).

A published bulletin is shown as it was *published*: :func:`published_view` reads the last
revision's snapshot, so a revision in progress (the bulletin reopened as a draft) never leaks
into the archive, the API or a rendition before it is approved and published.
:func:`current_view` shows the bulletin as it stands (CERT staff's preview of a draft).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bulletins.models import Bulletin, BulletinKind, BulletinRevision, RiskLevel
from core.markings import Tlp, parse_tlp


@dataclass(frozen=True)
class TextView:
    language: str
    title: str
    summary: str = ""
    solution: str = ""
    risks: str = ""


@dataclass(frozen=True)
class RevisionView:
    number: int
    summary: str
    published_at: dt.datetime


@dataclass(frozen=True)
class BulletinView:
    id: int
    reference: str | None  # None: never published
    kind: BulletinKind
    tlp: Tlp
    risk: RiskLevel
    impact: RiskLevel
    texts: dict[str, TextView]
    affected: list[dict[str, Any]] = field(default_factory=list)
    cves: list[str] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)
    revision: int = 0  # the revision shown (0: an unpublished draft)
    revisions: tuple[RevisionView, ...] = ()  # published revisions up to ``revision``, in order
    published_at: dt.datetime | None = None  # first publication
    revised_at: dt.datetime | None = None  # publication of ``revision``
    draft: bool = False  # a preview of unpublished content

    @property
    def languages(self) -> list[str]:
        return [lang for lang in ("fr", "en", "ar") if lang in self.texts]

    def text(self, language: str) -> TextView:
        """The text in ``language``, else the French one (always present)."""
        return self.texts.get(language) or self.texts["fr"]


def current_view(session: Session, bulletin: Bulletin) -> BulletinView:
    """``bulletin`` as it stands now (drafts included): for CERT staff."""
    texts = {
        t.language: TextView(t.language, t.title, t.summary, t.solution, t.risks)
        for t in bulletin.texts
    }
    revisions = _revisions(session, bulletin.id, bulletin.revision)
    return BulletinView(
        id=bulletin.id, reference=bulletin.reference, kind=bulletin.kind,
        tlp=parse_tlp(bulletin.tlp), risk=bulletin.risk, impact=bulletin.impact, texts=texts,
        affected=list(bulletin.affected), cves=list(bulletin.cves),
        scores=list(bulletin.scores or []), links=list(bulletin.links),
        indicators=list(bulletin.indicators), revision=bulletin.revision, revisions=revisions,
        published_at=bulletin.published_at, revised_at=bulletin.revised_at,
        draft=bulletin.revision == 0 or bulletin.status != "published",
    )  # fmt: skip


def published_view(session: Session, bulletin: Bulletin) -> BulletinView | None:
    """``bulletin`` as its last revision published it; None when it was never published."""
    if bulletin.revision == 0:
        return None
    row = session.scalar(
        select(BulletinRevision).where(
            BulletinRevision.bulletin_id == bulletin.id,
            BulletinRevision.number == bulletin.revision,
        )
    )
    if row is None:
        return None
    return from_snapshot(
        bulletin.id, row.snapshot, _revisions(session, bulletin.id, bulletin.revision),
        published_at=bulletin.published_at, revised_at=row.published_at,
    )  # fmt: skip


def from_snapshot(
    bulletin_id: int,
    snap: dict[str, Any],
    revisions: tuple[RevisionView, ...],
    *,
    published_at: dt.datetime | None,
    revised_at: dt.datetime | None,
) -> BulletinView:
    texts = {
        lang: TextView(
            lang, t["title"], t.get("summary", ""), t.get("solution", ""), t.get("risks", "")
        )  # fmt: skip
        for lang, t in snap.get("texts", {}).items()
    }
    return BulletinView(
        id=bulletin_id, reference=snap.get("reference"), kind=BulletinKind(snap["kind"]),
        tlp=parse_tlp(snap["tlp"]), risk=RiskLevel(snap["risk"]),
        impact=RiskLevel(snap["impact"]), texts=texts, affected=list(snap.get("affected", [])),
        cves=list(snap.get("cves", [])), scores=list(snap.get("scores", [])),
        links=list(snap.get("links", [])), indicators=list(snap.get("indicators", [])),
        revision=revisions[-1].number if revisions else 0, revisions=revisions,
        published_at=published_at, revised_at=revised_at,
    )  # fmt: skip


def _revisions(session: Session, bulletin_id: int, up_to: int) -> tuple[RevisionView, ...]:
    rows = session.execute(
        select(BulletinRevision.number, BulletinRevision.summary, BulletinRevision.published_at)
        .where(BulletinRevision.bulletin_id == bulletin_id, BulletinRevision.number <= up_to)
        .order_by(BulletinRevision.number)
    )
    return tuple(RevisionView(n, s, at) for n, s, at in rows)
