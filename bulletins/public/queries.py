"""Reading published bulletins (Flask-free read model of the REST API, the public archive and
its feeds): who sees which bulletin, the filters of a list, keyset pages and the published
views of a page in two queries (no query per bulletin).

Every list is cut on (first publication, id), newest first — the first publication never
changes, so a bulletin published or revised while a client pages neither repeats nor vanishes.
A staff list of drafts orders a never-published draft by its creation instead.

:func:`visible` is :func:`bulletins.access.readable`: it decides on the TLP and organisations of
the last publication, so a revision in progress that changes them changes nobody's access
before it is published.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from bulletins import access
from bulletins.models import (
    Bulletin,
    BulletinKind,
    BulletinRevision,
    BulletinStatus,
    BulletinText,
    RiskLevel,
)
from bulletins.outputs.view import BulletinView, RevisionView, TextView, from_snapshot
from core import inputs
from core.errors import ValidationFailed
from core.identity.authz import Actor
from core.markings import Tlp, parse_tlp

MAX_Q = 200


class BulletinFilter(BaseModel):
    """The query string of ``GET /api/v1/bulletins`` (and, in part, of the archive)."""

    model_config = ConfigDict(extra="forbid")

    kind: BulletinKind | None = Field(default=None, description="advisory, alert, note, digest")
    tlp: str | None = Field(
        default=None, description="`TLP:CLEAR`, `TLP:GREEN`, `TLP:AMBER`, `TLP:AMBER+STRICT`, "
        "`TLP:RED` (or `clear`, `green`…)", max_length=32,
    )  # fmt: skip
    risk: RiskLevel | None = Field(default=None, description="critical, important, moderate, low")
    status: BulletinStatus | None = Field(
        default=None, description="CERT staff only: draft, review, approved, published (without "
        "it, and for everyone else, published bulletins only)",
    )  # fmt: skip
    year: int | None = Field(default=None, ge=2000, le=2999, description="Year of the reference")
    q: str | None = Field(
        default=None, max_length=MAX_Q, description="Part of the reference or of a title"
    )
    published_after: dt.datetime | None = Field(
        default=None, description="First published at or after (ISO 8601 with an offset)"
    )
    published_before: dt.datetime | None = Field(
        default=None, description="First published before (ISO 8601 with an offset)"
    )
    after: str | None = Field(default=None, max_length=200, description="Cursor: the next page")
    before: str | None = Field(default=None, max_length=200, description="Cursor: the page before")

    @field_validator("tlp")
    @classmethod
    def _tlp(cls, value: str | None) -> str | None:
        return None if value is None else str(parse_tlp(value))

    @field_validator("q")
    @classmethod
    def _q(cls, value: str | None) -> str | None:
        if value is not None and inputs.NUL in value:
            raise ValueError(inputs.NUL_MESSAGE)
        return value.strip() if value is not None else None

    @field_validator("published_after", "published_before")
    @classmethod
    def _instant(cls, value: dt.datetime | None) -> dt.datetime | None:
        return None if value is None else inputs.instant(value)


# ---------------------------------------------------------------- who sees what
def visible(actor: Actor | None) -> ColumnElement[bool]:
    """What ``actor`` may read (staff: everything; others: see the module)."""
    return access.readable(actor)


def public() -> ColumnElement[bool]:
    """The public archive and feeds: published ``TLP:CLEAR`` bulletins, for everyone."""
    return access.public()


# ---------------------------------------------------------------- lists
def sort_key() -> ColumnElement[Any]:
    return func.coalesce(Bulletin.published_at, Bulletin.created_at)


@dataclass(frozen=True)
class Cursor:
    value: dt.datetime
    id: int

    def encode(self) -> str:
        return inputs.cursor_token({"v": self.value.isoformat(), "i": self.id})

    @classmethod
    def decode(cls, token: str, name: str) -> Cursor:
        bad = ValidationFailed("invalid page cursor", fields={name: "not a cursor of this list"})
        try:
            data = inputs.cursor_data(token)
            value = inputs.instant(dt.datetime.fromisoformat(data["v"]))
            id_ = data["i"]
            if not isinstance(id_, int) or isinstance(id_, bool) or not 0 < id_ <= inputs.MAX_ID:
                raise bad
        except inputs.CURSOR_ERRORS:
            raise bad from None
        return cls(value, id_)


def bulletin_query(actor: Actor | None, f: BulletinFilter) -> Select[Bulletin]:
    """Bulletins ``actor`` may read matching ``f`` (cursors aside), newest first."""
    staff = actor is not None and actor.is_cert_staff
    query = select(Bulletin).where(visible(actor))
    if f.status is not None and not staff and f.status != BulletinStatus.PUBLISHED:
        raise ValidationFailed(
            "status is for CERT staff", fields={"status": "only CERT staff list unpublished work"}
        )
    if f.status is not None and staff:
        query = query.where(Bulletin.status == f.status).options(selectinload(Bulletin.texts))
    else:
        query = query.where(access.published())
    if f.kind is not None:
        query = query.where(Bulletin.kind == f.kind)
    if f.tlp is not None:
        query = query.where(Bulletin.tlp == f.tlp)
    if f.risk is not None:
        query = query.where(Bulletin.risk == f.risk)
    if f.year is not None:
        query = query.where(Bulletin.year == f.year)
    if f.published_after is not None:
        query = query.where(Bulletin.published_at >= f.published_after)
    if f.published_before is not None:
        query = query.where(Bulletin.published_at < f.published_before)
    if f.q:
        query = query.where(matches(f.q, staff=staff))
    return query


def matches(q: str, *, staff: bool) -> ColumnElement[bool]:
    """The reference or a title contains ``q`` (any case). Titles are searched in the live
    texts: for everyone but staff only while no revision is in progress (then the live texts are
    the published ones), so a search never reveals words of unpublished work."""
    pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    in_title: ColumnElement[bool] = exists().where(
        BulletinText.bulletin_id == Bulletin.id,
        func.lower(BulletinText.title).like(pattern, escape="\\"),
    )
    if not staff:
        in_title = and_(Bulletin.status == BulletinStatus.PUBLISHED, in_title)
    return or_(func.lower(Bulletin.reference).like(pattern, escape="\\"), in_title)


@dataclass(frozen=True)
class KeysetPage:
    items: list[Bulletin]
    total: int
    next: str | None  # cursor of the next page (after)
    previous: str | None  # cursor of the page before (before)


def keyset_page(
    session: Session,
    query: Select[Bulletin],
    *,
    limit: int,
    after: str | None = None,
    before: str | None = None,
) -> KeysetPage:
    """One page of ``query`` newest first, from a cursor (``after``: older than it;
    ``before``: newer than it)."""
    if after and before:
        raise ValidationFailed("one cursor", fields={"before": "give after or before, not both"})
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    key = sort_key()
    if before:
        cursor = Cursor.decode(before, "before")
        newer = or_(key > cursor.value, and_(key == cursor.value, Bulletin.id > cursor.id))
        rows = list(session.scalars(query.where(newer).order_by(key, Bulletin.id).limit(limit + 1)))
        more_before = len(rows) > limit
        items = list(reversed(rows[:limit]))
        has_next, has_previous = True, more_before
    else:
        page = query
        if after:
            cursor = Cursor.decode(after, "after")
            page = query.where(
                or_(key < cursor.value, and_(key == cursor.value, Bulletin.id < cursor.id))
            )
        rows = list(session.scalars(page.order_by(key.desc(), Bulletin.id.desc()).limit(limit + 1)))
        items = rows[:limit]
        has_next, has_previous = len(rows) > limit, bool(after)
    following = _cursor(items[-1]) if items and has_next else None
    preceding = _cursor(items[0]) if items and has_previous else None
    return KeysetPage(items, total, following, preceding)


def offset_page(
    session: Session, query: Select[Bulletin], *, limit: int, offset: int
) -> tuple[list[Bulletin], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    ordered = query.order_by(sort_key().desc(), Bulletin.id.desc())
    return list(session.scalars(ordered.limit(limit).offset(offset))), total


def _cursor(bulletin: Bulletin) -> str:
    value = bulletin.published_at or bulletin.created_at
    return Cursor(value, bulletin.id).encode()


# ---------------------------------------------------------------- views
def views_of(session: Session, bulletins: list[Bulletin], *, staff: bool) -> list[BulletinView]:
    """The published view of each bulletin (staff: the live one of a never-published draft), in
    two queries whatever the number of bulletins."""
    published = [b for b in bulletins if b.revision > 0]
    revisions: dict[int, list[BulletinRevision]] = {}
    if published:
        rows = session.scalars(
            select(BulletinRevision)
            .where(BulletinRevision.bulletin_id.in_([b.id for b in published]))
            .order_by(BulletinRevision.bulletin_id, BulletinRevision.number)
        )
        for row in rows:
            revisions.setdefault(row.bulletin_id, []).append(row)
    views: list[BulletinView] = []
    for bulletin in bulletins:
        rows_of = [r for r in revisions.get(bulletin.id, []) if r.number <= bulletin.revision]
        if rows_of:
            history = tuple(RevisionView(r.number, r.summary, r.published_at) for r in rows_of)
            views.append(
                from_snapshot(
                    bulletin.id,
                    rows_of[-1].snapshot,
                    history,
                    published_at=bulletin.published_at,
                    revised_at=rows_of[-1].published_at,
                )  # fmt: skip
            )
        elif staff:  # never published: as it stands (its texts loaded with the page)
            views.append(_draft_view(bulletin))
    return views


def _draft_view(bulletin: Bulletin) -> BulletinView:
    return BulletinView(
        id=bulletin.id, reference=bulletin.reference, kind=bulletin.kind,
        tlp=parse_tlp(bulletin.tlp), risk=bulletin.risk, impact=bulletin.impact,
        texts={t.language: TextView(t.language, t.title, t.summary, t.solution, t.risks)
               for t in bulletin.texts},
        affected=list(bulletin.affected), cves=list(bulletin.cves),
        scores=list(bulletin.scores or []), links=list(bulletin.links),
        indicators=list(bulletin.indicators), draft=True,
    )  # fmt: skip


def find_published(session: Session, actor: Actor | None, reference: str) -> BulletinView | None:
    """The published view of bulletin ``reference`` when ``actor`` may read it; None otherwise
    (unknown, unpublished or not readable: the same answer)."""
    if not reference or len(reference) > 64 or inputs.NUL in reference:
        return None
    bulletin = session.scalar(
        select(Bulletin).where(
            Bulletin.reference == reference.upper(), access.published(), visible(actor)
        )
    )
    if bulletin is None:
        return None
    [view] = views_of(session, [bulletin], staff=False)
    return view


def find_public(session: Session, reference: str) -> BulletinView | None:
    """The published view of a public (``TLP:CLEAR``) bulletin; None otherwise."""
    if not reference or len(reference) > 64 or inputs.NUL in reference:
        return None
    bulletin = session.scalar(
        select(Bulletin).where(Bulletin.reference == reference.upper(), public())
    )
    if bulletin is None:
        return None
    [view] = views_of(session, [bulletin], staff=False)
    return view if view.tlp == Tlp.CLEAR else None
