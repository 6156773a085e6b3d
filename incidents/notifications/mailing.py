"""Notification e-mails to CERT staff (Flask-free use case of the mail job, every
``CERT_NOTIFY_MAIL_INTERVAL`` seconds), per each user's preference, read when the mail is due
(so a change of mind applies to what is still pending):

* **immediately**: the notifications written since the last run, in one message per user;
* **daily digest**: once a day, from ``CERT_NOTIFY_DIGEST_HOUR`` (``CERT_TIMEZONE``) on, the
  notifications of the last day in one message — but the urgent ones (a new incident of
  ``CERT_ESCALATION_PRIORITIES`` to the staff on duty, an escalation: ``URGENT_KINDS``) go
  immediately, as for the users who chose "immediately";
* **off**: nothing is mailed; the bell and the list still show them.

Notifications already read in the app are not mailed. A message names each notification by its
incident's reference and translated sentence, with the title only while the recipient may still
see the incident and it is not ``TLP:RED`` (an e-mail leaves Vigie), and links to the incident
(or to the list). Queued as a template and its context: rendered in the recipient's language
when the outbox sends it (:func:`core.mail.insert_template_mail`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from core.clock import Clock
from core.i18n import normalise_locale
from core.identity.authz import Actor
from core.identity.models import User
from core.mail import insert_template_mail
from incidents.access import RED
from incidents.models import Incident
from incidents.notifications.models import (
    URGENT_KINDS,
    EmailMode,
    Notification,
    NotificationPreference,
)
from incidents.notifications.recipients import actors_of, may_be_told
from incidents.notifications.sentences import sentence
from incidents.settings import IntakeSettings

TEMPLATE = "incidents:incidents/email/notifications"
MAX_LISTED = 50  # notifications listed in one message; the others are counted
BATCH = 1000  # pending notifications read per run and kind of message


def digest_slot(now: dt.datetime, hour: int, timezone: str) -> dt.datetime:
    """The latest digest time at or before ``now``: today's ``hour`` in ``timezone``, or
    yesterday's before that hour (aware, UTC)."""
    local = now.astimezone(ZoneInfo(timezone))
    slot = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if slot > local:
        slot = (local - dt.timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return slot.astimezone(dt.UTC)


def _pending(
    session: Session, *, immediate: bool, user_ids: Sequence[int] = ()
) -> list[Notification]:
    """Notifications whose e-mail is due: of users who want them immediately (the default:
    no preference row) and the urgent ones of everybody else whose e-mail is still pending
    (digest: users who turned e-mails off have none pending), or of ``user_ids``."""
    query = select(Notification).where(Notification.mail_pending)
    if immediate:
        others = select(NotificationPreference.user_id).where(
            NotificationPreference.email != EmailMode.IMMEDIATE
        )
        query = query.where(
            or_(Notification.user_id.not_in(others), Notification.kind.in_(sorted(URGENT_KINDS)))
        )
    else:
        query = query.where(Notification.user_id.in_(list(user_ids)))
    query = query.options(
        selectinload(Notification.incident).selectinload(Incident.participants),
        selectinload(Notification.incident).selectinload(Incident.shares),  # can_see reads both
    )
    order = (Notification.user_id, Notification.id)
    return list(session.scalars(query.order_by(*order).limit(BATCH)))


def _by_user(rows: Iterable[Notification]) -> dict[int, list[Notification]]:
    grouped: dict[int, list[Notification]] = {}
    for row in rows:
        grouped.setdefault(row.user_id, []).append(row)
    return grouped


def _users(session: Session, user_ids: Iterable[int]) -> tuple[dict[int, User], dict[int, Actor]]:
    """The users and their actors (centres read in one query)."""
    ids = sorted(set(user_ids))
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    return users, actors_of(session, list(users.values()))


def _item(user: User, actor: Actor, row: Notification, base_url: str) -> dict[str, object]:
    incident = row.incident
    visible = may_be_told(user, incident, actor)
    return {
        "reference": incident.reference,
        "sentence": sentence(row.kind, row.deadline),
        "title": incident.title if visible and incident.tlp != RED else None,
        "url": f"{base_url}/incidents/{incident.reference}" if visible else None,
        "at": row.created_at.isoformat(),
    }


def _mail(
    session: Session,
    user: User,
    actor: Actor,
    rows: list[Notification],
    *,
    digest: bool,
    settings: IntakeSettings,
    clock: Clock,
) -> bool:
    """One message listing the unread ``rows`` to ``user`` (none when every one was read, or
    when the user may no longer receive any); the rows are no longer pending either way."""
    for row in rows:
        row.mail_pending = False
    unread = [row for row in rows if row.read_at is None]
    if not unread or not (user.is_active and user.is_cert_staff):
        return False
    listed = [_item(user, actor, row, settings.base_url) for row in reversed(unread[-MAX_LISTED:])]
    insert_template_mail(
        session,
        to=user.email,
        template=TEMPLATE,
        context={
            "recipient_name": user.name,
            "digest": digest,
            "count": len(unread),
            "items": listed,
            "more": len(unread) - len(listed),
            "list_url": f"{settings.base_url}/notifications",
            "account_url": f"{settings.base_url}/account",
            "timezone": settings.timezone,
        },
        language=normalise_locale(user.locale),
        related=("user", user.id),
        clock=clock,
        mail_domain=settings.mail_domain,
    )
    return True


def send_immediate(session: Session, *, settings: IntakeSettings, clock: Clock) -> int:
    """One message per user whose preference is "immediately"; how many messages."""
    sent = 0
    grouped = _by_user(_pending(session, immediate=True))
    users, actors = _users(session, grouped)
    for user_id, rows in grouped.items():
        user = users[user_id]
        mailed = _mail(
            session, user, actors[user_id], rows, digest=False, settings=settings, clock=clock
        )
        sent += mailed
    return sent


def drop_unwanted(session: Session) -> int:
    """Users who turned e-mails off: their pending notifications are no longer pending."""
    off = select(NotificationPreference.user_id).where(
        NotificationPreference.email == EmailMode.OFF
    )
    result = session.execute(
        update(Notification)
        .where(Notification.mail_pending, Notification.user_id.in_(off))
        .values(mail_pending=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def send_digests(session: Session, *, settings: IntakeSettings, clock: Clock) -> int:
    """The daily digest of every user whose preference is "digest" and whose last digest went
    before the latest digest time; how many messages."""
    now = clock.now()
    slot = digest_slot(now, settings.digest_hour, settings.timezone)
    due = list(
        session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.email == EmailMode.DIGEST,
                (NotificationPreference.last_digest_at.is_(None))
                | (NotificationPreference.last_digest_at < slot),
            )
        )
    )
    if not due:
        return 0
    by_user = _by_user(_pending(session, immediate=False, user_ids=[p.user_id for p in due]))
    sent = 0
    users, actors = _users(session, by_user)
    for preference in due:
        rows = by_user.get(preference.user_id)
        if not rows:
            continue
        user_id = preference.user_id
        user = users[user_id]
        sent += _mail(
            session, user, actors[user_id], rows, digest=True, settings=settings, clock=clock
        )
        preference.last_digest_at = now
    return sent


def send_notification_mails(
    session: Session, *, settings: IntakeSettings, clock: Clock
) -> dict[str, int]:
    """The mail job's staff part, in the caller's transaction."""
    counts = {
        "dropped": drop_unwanted(session),
        "immediate": send_immediate(session, settings=settings, clock=clock),
        "digests": send_digests(session, settings=settings, clock=clock),
    }
    session.flush()
    return counts
