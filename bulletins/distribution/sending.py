"""The e-mails of a publication (Flask-free): :func:`publish_and_send` publishes an approved
bulletin and, in the same transaction, queues one outbox message per recipient of its lists —
or refuses the whole publication, naming every recipient its TLP does not allow (nothing
published, nothing queued).

Each message is the template :data:`TEMPLATE` with the bulletin's essentials in every language
(JSON context), rendered in the recipient's language when the outbox sends it (French when the
bulletin has no text in that language). Subject and first line of the body carry the TLP label:
``[TLP:AMBER] MACERT-AVI-2026-0042 — <title>``. Each recipient gets a
:class:`~bulletins.models.BulletinDelivery` row pointing at its outbox message (the
per-recipient delivery status). A revision goes again to the bulletin's lists, with its change
summary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bulletins.audience import Audience, Refused, audience_of
from bulletins.authoring.services import publish
from bulletins.models import (
    Bulletin,
    BulletinCounter,
    BulletinDelivery,
    BulletinRevision,
    BulletinStatus,
)
from bulletins.outputs.view import BulletinView, published_view
from bulletins.rules.gating import Recipient
from bulletins.rules.references import format_reference
from bulletins.settings import BulletinSettings
from core.clock import Clock
from core.errors import InvalidTransition, ValidationFailed
from core.i18n import render_mail
from core.identity.authz import Actor, require
from core.identity.models import Role
from core.mail import insert_template_mails
from core.markings import Tlp

TEMPLATE = "bulletins:bulletins/email/bulletin"
RELATED = "bulletin"


@dataclass(frozen=True)
class Sent:
    revision: BulletinRevision
    queued: int  # outbox messages (one per recipient)


def refusal_text(refused: Sequence[Refused]) -> str:
    """Every refused address and why, in one line."""
    return "; ".join(f"{r.recipient.email}: {r.reason}" for r in refused)


def publish_and_send(
    session: Session,
    actor: Actor,
    bulletin: Bulletin,
    *,
    clock: Clock,
    settings: BulletinSettings,
    change: str | None = None,
) -> Sent:
    """Publish ``bulletin`` (approved) and queue its e-mails, or refuse both: a recipient of
    its lists that its TLP does not allow makes a ``ValidationFailed`` naming every such
    address and the reason (field ``recipients``)."""
    require(actor, Role.LEAD, "publishing bulletins")
    if bulletin.status != BulletinStatus.APPROVED:
        raise InvalidTransition(
            f"only an approved bulletin is published (this one is {bulletin.status})"
        )
    audience = audience_of(session, bulletin)
    check(audience)
    revision = publish(session, actor, bulletin, clock=clock, settings=settings, change=change)
    view = published_view(session, bulletin)
    if view is None:  # pragma: no cover - publish just wrote the revision
        raise InvalidTransition("the bulletin was not published")
    queued = queue_bulletin_mails(session, bulletin, view, audience.recipients, clock=clock,
                                  settings=settings, revision=revision)  # fmt: skip
    return Sent(revision, queued)


def check(audience: Audience) -> None:
    if audience.refused:
        raise ValidationFailed(
            f"the TLP refuses {len(audience.refused)} recipient(s): "
            + refusal_text(audience.refused),
            fields={"recipients": refusal_text(audience.refused)},
        )


def queue_bulletin_mails(
    session: Session,
    bulletin: Bulletin,
    view: BulletinView,
    recipients: Sequence[Recipient],
    *,
    clock: Clock,
    settings: BulletinSettings,
    revision: BulletinRevision,
) -> int:
    """One outbox message and one delivery row per recipient of ``revision``, in two multi-row
    INSERTs (the recipients are assumed allowed: see :func:`publish_and_send`)."""
    if not recipients:
        return 0
    context = mail_context(view, settings=settings, change=_change(revision))
    messages = [{"to": r.email, "language": r.language, "context": context} for r in recipients]
    ids = insert_template_mails(session, messages, template=TEMPLATE, tlp=str(view.tlp),
                                related=(RELATED, view.reference or bulletin.id), clock=clock,
                                mail_domain=settings.mail_domain)  # fmt: skip
    now = clock.now()
    session.execute(
        insert(BulletinDelivery),
        [
            {"bulletin_id": bulletin.id, "revision": revision.number, "email": r.email,
             "name": r.name[:200], "language": r.language, "organisation_id": r.organisation_id,
             "list_id": r.list_id, "outbox_message_id": message_id, "created_at": now}
            for r, message_id in zip(recipients, ids, strict=True)
        ],
    )  # fmt: skip
    return len(ids)


def _change(revision: BulletinRevision) -> str | None:
    return revision.summary if revision.number > 1 else None


def bulletin_url(view: BulletinView, settings: BulletinSettings) -> str:
    """Where a recipient reads the bulletin: the public archive for ``TLP:CLEAR``, else its
    page in Vigie (behind sign-in and the read rule)."""
    if view.tlp == Tlp.CLEAR and view.reference:
        return f"{settings.base_url}/advisories/{view.reference}"
    return f"{settings.base_url}/bulletins/{view.id}"


def mail_context(
    view: BulletinView,
    *,
    settings: BulletinSettings,
    change: str | None,
    unsubscribe_url: str | None = None,
) -> dict[str, Any]:
    """The template's context (JSON): the bulletin in every language it has."""
    return {
        "reference": view.reference or "",
        "tlp": str(view.tlp),
        "kind": view.kind.value,
        "risk": view.risk.value,
        "impact": view.impact.value,
        "texts": {lang: {"title": t.title, "summary": t.summary, "solution": t.solution,
                         "risks": t.risks} for lang, t in view.texts.items()},
        "affected": [{"vendor": str(a.get("vendor", "")), "product": str(a.get("product", "")),
                      "versions": str(a.get("versions", ""))} for a in view.affected],
        "cves": list(view.cves),
        "links": list(view.links),
        "revision": view.revision,
        "change": change,
        "published_at": _iso(view.revised_at or view.published_at),
        "timezone": settings.timezone,
        "cert_name": settings.cert_name,
        "url": bulletin_url(view, settings),
        "unsubscribe_url": unsubscribe_url,  # digests only: never on an alert to a contact
    }  # fmt: skip


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def preview(
    session: Session,
    bulletin: Bulletin,
    view: BulletinView,
    language: str,
    *,
    settings: BulletinSettings,
    change: str | None,
    now: dt.datetime,
) -> tuple[str, str, str]:
    """(subject, text, html) the recipients in ``language`` would get if ``view`` (the approved
    bulletin) were published now — from the same template; a first publication shows the
    reference it would most likely take."""
    context = mail_context(view, settings=settings, change=change)
    if not view.reference:
        context["reference"] = next_reference(session, bulletin, settings, now.year)
    context["revision"] = bulletin.revision + 1
    context["published_at"] = now.isoformat()
    subject, text, html = render_mail("bulletins", TEMPLATE.partition(":")[2], language, **context)
    return subject, text, html


def next_reference(
    session: Session, bulletin: Bulletin, settings: BulletinSettings, year: int
) -> str:
    last = session.scalar(
        select(BulletinCounter.last).where(
            BulletinCounter.kind == bulletin.kind.value, BulletinCounter.year == year
        )
    )
    return format_reference(settings.reference_prefix, bulletin.kind, year, (last or 0) + 1)
