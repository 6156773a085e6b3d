"""What the bulletin pages list (Flask-free read models): CERT staff's list of every bulletin
with its status tabs and filters, a constituent's list of the published bulletins it may read
(:func:`bulletins.access.readable`), titles, and the choices of the draft form.

A constituent never sees unpublished words: its titles come from the last published revision's
snapshot, and its search matches a title only while the bulletin is not reopened for a
revision (a published bulletin is never edited in place, so its live text is what was
published); otherwise the reference only.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from bulletins.access import readable
from bulletins.models import (
    Bulletin,
    BulletinKind,
    BulletinList,
    BulletinOrganisation,
    BulletinRevision,
    BulletinStatus,
    BulletinText,
    DistributionList,
    RiskLevel,
)
from core.identity.authz import Actor
from core.identity.models import Organisation
from core.markings import Tlp

MAX_QUERY = 100


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _title_matches(q: str) -> object:
    return exists().where(
        BulletinText.bulletin_id == Bulletin.id,
        func.lower(BulletinText.title).like(_like(q), escape="\\"),
    )


def staff_list(
    *,
    status: BulletinStatus | None = None,
    kind: BulletinKind | None = None,
    tlp: Tlp | None = None,
    risk: RiskLevel | None = None,
    q: str = "",
) -> Select[Bulletin]:
    """Every bulletin (drafts included), newest first (the primary key's order: an index)."""
    query = select(Bulletin).options(selectinload(Bulletin.texts))
    if status is not None:
        query = query.where(Bulletin.status == status)
    if kind is not None:
        query = query.where(Bulletin.kind == kind)
    if tlp is not None:
        query = query.where(Bulletin.tlp == str(tlp))
    if risk is not None:
        query = query.where(Bulletin.risk == risk)
    q = q.strip()[:MAX_QUERY]
    if q:
        query = query.where(
            or_(func.lower(Bulletin.reference).like(_like(q), escape="\\"), _title_matches(q))  # type: ignore[arg-type]
        )
    return query.order_by(Bulletin.id.desc())


def reader_list(
    actor: Actor | None, *, kind: BulletinKind | None = None, q: str = ""
) -> Select[Bulletin]:
    """The published bulletins ``actor`` may read, most recently first published first."""
    query = select(Bulletin).where(readable(actor))
    if kind is not None:
        query = query.where(Bulletin.kind == kind)
    q = q.strip()[:MAX_QUERY]
    if q:
        settled = and_(Bulletin.status == BulletinStatus.PUBLISHED, _title_matches(q))  # type: ignore[arg-type]
        query = query.where(
            or_(func.lower(Bulletin.reference).like(_like(q), escape="\\"), settled)
        )
    return query.order_by(Bulletin.published_at.desc(), Bulletin.id.desc())


def status_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Bulletin.status, func.count()).group_by(Bulletin.status))
    return {str(status): int(count) for status, count in rows}


def live_titles(bulletins: Iterable[Bulletin], language: str) -> dict[int, dict[str, str]]:
    """Each bulletin's current title in ``language`` (else French) and risk level."""
    out: dict[int, dict[str, str]] = {}
    for bulletin in bulletins:
        text = bulletin.text(language) or bulletin.text("fr")
        title = text.title if text is not None else ""
        out[bulletin.id] = {"title": title, "risk": bulletin.risk.value}
    return out


def published_titles(
    session: Session, bulletins: Iterable[Bulletin], language: str
) -> dict[int, dict[str, str]]:
    """Each bulletin's title (``language``, else French) and risk level as its last revision
    published them (one query for the page)."""
    wanted = {b.id: b.revision for b in bulletins if b.revision > 0}
    if not wanted:
        return {}
    rows = session.execute(
        select(
            BulletinRevision.bulletin_id, BulletinRevision.number, BulletinRevision.snapshot
        ).where(BulletinRevision.bulletin_id.in_(wanted))
    )
    out: dict[int, dict[str, str]] = {}
    for bulletin_id, number, snapshot in rows:
        if wanted.get(bulletin_id) != number:
            continue
        snap = snapshot or {}
        texts = snap.get("texts", {})
        text = texts.get(language) or texts.get("fr") or {}
        out[bulletin_id] = {"title": str(text.get("title", "")), "risk": str(snap.get("risk", ""))}
    return out


def organisation_choices(session: Session) -> list[tuple[str, str]]:
    return [
        (slug, name)
        for slug, name in session.execute(
            select(Organisation.slug, Organisation.name).order_by(Organisation.name)
        )
    ]


def list_choices(session: Session) -> list[tuple[str, str]]:
    return [
        (slug, name)
        for slug, name in session.execute(
            select(DistributionList.slug, DistributionList.name).order_by(DistributionList.name)
        )
    ]


def audience_of(session: Session, bulletin: Bulletin) -> tuple[list[str], list[str]]:
    """(organisation slugs, list slugs) of ``bulletin``."""
    orgs = session.scalars(
        select(Organisation.slug)
        .join(BulletinOrganisation, BulletinOrganisation.organisation_id == Organisation.id)
        .where(BulletinOrganisation.bulletin_id == bulletin.id)
        .order_by(Organisation.slug)
    )
    lists = session.scalars(
        select(DistributionList.slug)
        .join(BulletinList, BulletinList.list_id == DistributionList.id)
        .where(BulletinList.bulletin_id == bulletin.id)
        .order_by(DistributionList.slug)
    )
    return list(orgs), list(lists)
