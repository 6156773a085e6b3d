"""Writing and publishing bulletins (Flask-free use cases): draft → review → approved →
published, with a second person approving, and published bulletins updated only by numbered
revisions.

* :func:`create_draft` / :func:`update_draft`: CERT staff; only a draft changes;
* :func:`submit`: the draft goes to review (who submitted is kept);
* :func:`approve`: a lead who neither wrote nor submitted it — four eyes; :func:`send_back`
  returns it to draft with a reason;
* :func:`publish`: a lead; the first publication takes the next number of its kind and year
  (``bulletin_counters``, locked, so published references have no gap) and every publication
  adds a :class:`~bulletins.models.BulletinRevision` with its change summary and a snapshot,
  and records ``bulletin.published``;
* :func:`revise`: a published bulletin reopened as a draft for its next revision (its
  reference and published revisions stay).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from bulletins.audit import BulletinAction
from bulletins.authoring.schemas import DraftIn
from bulletins.events import AGGREGATE, BulletinEventName, Published
from bulletins.models import (
    Bulletin,
    BulletinCounter,
    BulletinList,
    BulletinOrganisation,
    BulletinPublishedOrganisation,
    BulletinRevision,
    BulletinSource,
    BulletinStatus,
    BulletinText,
    DistributionList,
)
from bulletins.rules.references import format_reference
from bulletins.settings import BulletinSettings
from core import audit
from core.clock import Clock
from core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from core.events import Event, record_event
from core.i18n import N_
from core.identity.authz import Actor, at_least, require
from core.identity.models import Organisation, Role

MAX_CHANGE = 500


def get_bulletin(session: Session, actor: Actor, bulletin_id: int) -> Bulletin:
    require(actor, Role.ANALYST, "reading bulletin drafts")
    bulletin = session.get(Bulletin, bulletin_id)
    if bulletin is None:
        raise NotFound(f"no bulletin {bulletin_id}")
    return bulletin


def create_draft(
    session: Session,
    actor: Actor,
    data: DraftIn,
    *,
    clock: Clock,
    source: BulletinSource = BulletinSource.SCRATCH,
) -> Bulletin:
    require(actor, Role.ANALYST, "writing bulletins")
    now = clock.now()
    bulletin = Bulletin(kind=data.kind, status=BulletinStatus.DRAFT, source=source,
                        created_at=now, created_by_id=actor.user_id, updated_at=now)  # fmt: skip
    _fill(bulletin, data)
    session.add(bulletin)
    session.flush()
    _audience(session, bulletin, data)
    audit.record(session, actor, BulletinAction.CREATE, "bulletin", bulletin.id, clock=clock,
                 after={"kind": data.kind.value, "tlp": data.tlp})  # fmt: skip
    return bulletin


def update_draft(
    session: Session, actor: Actor, bulletin: Bulletin, data: DraftIn, *, clock: Clock
) -> Bulletin:
    require(actor, Role.ANALYST, "writing bulletins")
    _expect(bulletin, BulletinStatus.DRAFT, "only a draft is edited: revise a published one")
    if data.kind != bulletin.kind and bulletin.reference is not None:
        raise ValidationFailed(
            "kind is fixed", fields={"kind": N_("a published bulletin keeps its kind")}
        )
    _fill(bulletin, data)
    _audience(session, bulletin, data)
    bulletin.updated_at = clock.now()
    session.flush()
    audit.record(session, actor, BulletinAction.UPDATE, "bulletin", bulletin.id, clock=clock)
    return bulletin


def submit(session: Session, actor: Actor, bulletin: Bulletin, *, clock: Clock) -> Bulletin:
    require(actor, Role.ANALYST, "submitting bulletins")
    _expect(bulletin, BulletinStatus.DRAFT, "only a draft is submitted for review")
    bulletin.status, bulletin.submitted_by_id = BulletinStatus.REVIEW, actor.user_id
    return _changed(session, actor, bulletin, BulletinAction.SUBMIT, clock=clock)


def approve(session: Session, actor: Actor, bulletin: Bulletin, *, clock: Clock) -> Bulletin:
    require(actor, Role.LEAD, "approving bulletins")
    _expect(bulletin, BulletinStatus.REVIEW, "only a bulletin in review is approved")
    if actor.user_id is None or actor.user_id in (bulletin.created_by_id, bulletin.submitted_by_id):
        raise PermissionDenied(
            "a bulletin is approved by someone who neither wrote nor submitted it"
        )
    bulletin.status, bulletin.approved_by_id = BulletinStatus.APPROVED, actor.user_id
    bulletin.approved_at = clock.now()
    return _changed(session, actor, bulletin, BulletinAction.APPROVE, clock=clock)


def send_back(
    session: Session, actor: Actor, bulletin: Bulletin, reason: str, *, clock: Clock
) -> Bulletin:
    require(actor, Role.LEAD, "reviewing bulletins")
    if bulletin.status not in (BulletinStatus.REVIEW, BulletinStatus.APPROVED):
        raise InvalidTransition(f"a {bulletin.status} bulletin is not in review")
    if not reason.strip():
        raise ValidationFailed("reason required", fields={"reason": N_("say what to change")})
    bulletin.status, bulletin.approved_by_id, bulletin.approved_at = (
        BulletinStatus.DRAFT,
        None,
        None,
    )
    return _changed(session, actor, bulletin, BulletinAction.RETURN, clock=clock,
                    data={"reason": reason.strip()[:MAX_CHANGE]})  # fmt: skip


def publish(
    session: Session,
    actor: Actor,
    bulletin: Bulletin,
    *,
    clock: Clock,
    settings: BulletinSettings,
    change: str | None = None,
) -> BulletinRevision:
    """Publish an approved bulletin: its next revision (1: "Version initiale")."""
    require(actor, Role.LEAD, "publishing bulletins")
    _expect(bulletin, BulletinStatus.APPROVED, "only an approved bulletin is published")
    if bulletin.revision and not (change or "").strip():
        raise ValidationFailed(
            "change summary required", fields={"change": N_("say what this revision changes")}
        )
    now = clock.now()
    if bulletin.reference is None:
        bulletin.year = now.year
        bulletin.number = _next_number(session, bulletin, now.year)
        bulletin.reference = format_reference(
            settings.reference_prefix, bulletin.kind, bulletin.year, bulletin.number
        )
        bulletin.published_at = now
    bulletin.revision += 1
    bulletin.published_tlp = bulletin.tlp
    _publish_audience(session, bulletin)
    bulletin.status, bulletin.revised_at, bulletin.updated_at = BulletinStatus.PUBLISHED, now, now
    summary = (change or "").strip()[:MAX_CHANGE] or "Version initiale"
    revision = BulletinRevision(bulletin_id=bulletin.id, number=bulletin.revision, summary=summary,
                                published_at=now, published_by_id=actor.user_id,
                                snapshot=snapshot(bulletin))  # fmt: skip
    session.add(revision)
    session.flush()
    payload = Published(bulletin_id=bulletin.id, reference=bulletin.reference,
                        revision=bulletin.revision, tlp=bulletin.tlp)  # fmt: skip
    event = Event.of(BulletinEventName.PUBLISHED, payload,
                     aggregate=(AGGREGATE, bulletin.reference), actor=actor)  # fmt: skip
    record_event(session, event, clock=clock)
    audit.record(session, actor, BulletinAction.PUBLISH, "bulletin", bulletin.reference,
                 clock=clock, after={"revision": bulletin.revision, "change": summary})  # fmt: skip
    return revision


def revise(session: Session, actor: Actor, bulletin: Bulletin, *, clock: Clock) -> Bulletin:
    """Reopen a published bulletin as a draft for its next revision."""
    require(actor, Role.ANALYST, "revising bulletins")
    _expect(bulletin, BulletinStatus.PUBLISHED, "only a published bulletin is revised")
    bulletin.status = BulletinStatus.DRAFT
    bulletin.submitted_by_id = bulletin.approved_by_id = None
    bulletin.approved_at = None
    return _changed(session, actor, bulletin, BulletinAction.REVISE, clock=clock)


def snapshot(bulletin: Bulletin) -> dict[str, Any]:
    """What a revision published, as JSON."""
    return {
        "reference": bulletin.reference, "kind": bulletin.kind.value, "tlp": bulletin.tlp,
        "risk": bulletin.risk.value, "impact": bulletin.impact.value,
        "affected": bulletin.affected, "cves": bulletin.cves, "links": bulletin.links,
        "indicators": bulletin.indicators, "scores": bulletin.scores,
        "published_at": _iso(bulletin.published_at), "revised_at": _iso(bulletin.revised_at),
        "texts": {t.language: {"title": t.title, "summary": t.summary, "solution": t.solution,
                               "risks": t.risks} for t in bulletin.texts},
    }  # fmt: skip


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def can_approve(actor: Actor, bulletin: Bulletin) -> bool:
    return (
        at_least(actor, Role.LEAD)
        and actor.user_id is not None
        and actor.user_id not in (bulletin.created_by_id, bulletin.submitted_by_id)
    )


def _next_number(session: Session, bulletin: Bulletin, year: int) -> int:
    key = (bulletin.kind.value, year)
    counter = session.scalar(
        select(BulletinCounter)
        .where(BulletinCounter.kind == key[0], BulletinCounter.year == year)
        .with_for_update()
    )
    if counter is None:
        counter = BulletinCounter(kind=key[0], year=year, last=0)
        session.add(counter)
    counter.last += 1
    session.flush()
    return counter.last


def _fill(bulletin: Bulletin, data: DraftIn) -> None:
    bulletin.kind, bulletin.tlp, bulletin.risk, bulletin.impact = (
        data.kind,
        data.tlp,
        data.risk,
        data.impact,
    )
    bulletin.affected = [a.model_dump() for a in data.affected]
    bulletin.cves, bulletin.links = list(data.cves), list(data.links)
    bulletin.indicators = [i.model_dump() for i in data.indicators]
    bulletin.scores = [s.model_dump() for s in data.scores]
    by_language = {t.language: t for t in bulletin.texts}
    for language, text in data.texts.items():
        row = by_language.pop(language, None) or BulletinText(language=language)
        row.title, row.summary, row.solution, row.risks = (
            text.title,
            text.summary,
            text.solution,
            text.risks,
        )
        if row not in bulletin.texts:
            bulletin.texts.append(row)
    for row in by_language.values():
        bulletin.texts.remove(row)


def _publish_audience(session: Session, bulletin: Bulletin) -> None:
    """The concerned organisations as published: the readers of a ``TLP:AMBER`` bulletin."""
    session.execute(
        delete(BulletinPublishedOrganisation).where(
            BulletinPublishedOrganisation.bulletin_id == bulletin.id
        )
    )
    session.execute(
        insert(BulletinPublishedOrganisation).from_select(
            ["bulletin_id", "organisation_id"],
            select(BulletinOrganisation.bulletin_id, BulletinOrganisation.organisation_id).where(
                BulletinOrganisation.bulletin_id == bulletin.id
            ),
        )
    )


def _audience(session: Session, bulletin: Bulletin, data: DraftIn) -> None:
    """Replace the bulletin's concerned organisations and lists by those ``data`` names; an
    unknown slug is an error naming it (nothing is written: the caller's unit of work rolls
    back)."""
    orgs = {
        row.slug: row.id
        for row in session.execute(
            select(Organisation.slug, Organisation.id).where(
                Organisation.slug.in_(data.organisations)
            )
        )
    }
    lists = {
        row.slug: row.id
        for row in session.execute(
            select(DistributionList.slug, DistributionList.id).where(
                DistributionList.slug.in_(data.lists)
            )
        )
    }
    problems: dict[str, str] = {}
    if unknown := [slug for slug in data.organisations if slug not in orgs]:
        problems["organisations"] = f"no organisation {', '.join(unknown)}"
    if unknown := [slug for slug in data.lists if slug not in lists]:
        problems["lists"] = f"no distribution list {', '.join(unknown)}"
    if problems:
        raise ValidationFailed("unknown audience", fields=problems)
    session.execute(
        delete(BulletinOrganisation).where(BulletinOrganisation.bulletin_id == bulletin.id)
    )
    session.execute(delete(BulletinList).where(BulletinList.bulletin_id == bulletin.id))
    session.add_all(
        BulletinOrganisation(bulletin_id=bulletin.id, organisation_id=org_id)
        for org_id in dict.fromkeys(orgs[slug] for slug in data.organisations)
    )
    session.add_all(
        BulletinList(bulletin_id=bulletin.id, list_id=list_id)
        for list_id in dict.fromkeys(lists[slug] for slug in data.lists)
    )
    session.flush()


def _expect(bulletin: Bulletin, status: BulletinStatus, message: str) -> None:
    if bulletin.status != status:
        raise InvalidTransition(f"{message} (this one is {bulletin.status})")


def _changed(
    session: Session,
    actor: Actor,
    bulletin: Bulletin,
    action: BulletinAction,
    *,
    clock: Clock,
    data: dict[str, Any] | None = None,
) -> Bulletin:
    bulletin.updated_at = clock.now()
    session.flush()
    audit.record(session, actor, action, "bulletin", bulletin.reference or bulletin.id,
                 clock=clock, after={"status": bulletin.status.value, **(data or {})})  # fmt: skip
    return bulletin
