"""Scheduled digests (Flask-free use case): for each list with a daily or weekly digest whose
last period has ended, one ``digest_runs`` row and one e-mail per recipient listing the
bulletins published (or revised) in the period that *this* recipient may receive.

* **Once per period**: the ``DigestRun`` row (unique per list, frequency and period start) is
  inserted first, in the transaction that queues the mails: a second scheduler, a restart or a
  run by hand finds it (or fails to insert it, and rolls back its own mails) and queues nothing.
* **Per-recipient TLP**: each bulletin is checked against each recipient with
  :func:`bulletins.rules.gating.refusal` and the organisations it is about; a ``TLP:RED``
  bulletin, besides, only in the digests of the lists it was sent to. A recipient left with
  nothing gets no mail.
* **What it shows**: the published content (the last revision's snapshot, as
  :func:`bulletins.outputs.view.published_view`), in the recipient's language: reference,
  title, risk, TLP, link; the subject carries the most restrictive TLP of the entries.
* **Leaving**: each recipient but an organisation's registered contacts (never unsubscribed)
  gets a signed unsubscribe link (:mod:`bulletins.digests.tokens`) in the text and in the
  headers: ``List-Unsubscribe`` (RFC 2369) pointing at the one-click address, and
  ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), so that a mail client can
  unsubscribe with one POST (:mod:`bulletins.digests.web`; a GET never unsubscribes).
* **Who got what**: one :class:`~bulletins.models.DigestDelivery` row per recipient, pointing at
  its outbox message (the list's digest page shows their status).

A list gets no digest for a period that ended before the list existed; after a long stop of
the scheduler only the last period of each list is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from babel.dates import format_date
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from bulletins.audience import resolve
from bulletins.digests import tokens
from bulletins.digests.periods import Period, last_period
from bulletins.models import (
    Bulletin,
    BulletinKind,
    BulletinList,
    BulletinPublishedOrganisation,
    BulletinRevision,
    DigestDelivery,
    DigestFrequency,
    DigestRun,
    DistributionList,
    ListUnsubscribe,
)
from bulletins.outputs.view import BulletinView, from_snapshot
from bulletins.rules.gating import Recipient, refusal
from bulletins.settings import BulletinSettings
from core.clock import Clock
from core.db import SessionFactory
from core.mail import insert_template_mail
from core.markings import Tlp
from core.uow import transaction

TEMPLATE = "bulletins:bulletins/email/digest"
FREQUENCIES = (DigestFrequency.DAILY, DigestFrequency.WEEKLY)


@dataclass(frozen=True)
class Mailing:
    """What a digest run needs besides the database: settings, clock, secret, mail domain."""

    settings: BulletinSettings
    clock: Clock
    secret_key: str
    mail_domain: str


@dataclass(frozen=True)
class Entry:
    view: BulletinView
    concerned: frozenset[int]  # organisations the bulletin is about
    lists: frozenset[int]  # lists it was sent to


def period_of(dlist: DistributionList, now: dt.datetime, settings: BulletinSettings) -> Period:
    return last_period(
        dlist.digest, now, timezone=settings.timezone, at=settings.digest_time,
        weekday=settings.digest_weekday,
    )  # fmt: skip


def send_due_digests(
    session_factory: SessionFactory, mailing: Mailing, *, only: Sequence[int] = ()
) -> dict[str, int]:
    """Queue the digest of every list whose last period has ended and has no run yet (``only``:
    these list ids); counts of lists queued, already done, not due, and mails queued."""
    counts = {"queued": 0, "done": 0, "not_due": 0, "mails": 0}
    now = mailing.clock.now()
    query = select(DistributionList.id).where(DistributionList.digest.in_(FREQUENCIES))
    if only:
        query = query.where(DistributionList.id.in_(only))
    with transaction(session_factory) as session:
        list_ids = list(session.scalars(query.order_by(DistributionList.id)))
    for list_id in list_ids:
        try:
            with transaction(session_factory, write=True) as session:
                outcome = queue_digest(session, list_id, now, mailing)
        except IntegrityError:  # another run inserted this period's row first: its mails stand
            outcome = "done"
        if isinstance(outcome, int):
            counts["queued"] += 1
            counts["mails"] += outcome
        else:
            counts[outcome] += 1
    return counts


def queue_digest(session: Session, list_id: int, now: dt.datetime, mailing: Mailing) -> int | str:
    """In the caller's transaction: the run row of ``list_id``'s last period, then its mails;
    the number of mails, or ``"done"`` / ``"not_due"``. Raises ``IntegrityError`` when a
    concurrent run inserted the same period's row (the caller rolls back)."""
    dlist = session.get(DistributionList, list_id)
    if dlist is None or dlist.digest not in FREQUENCIES:
        return "not_due"
    period = period_of(dlist, now, mailing.settings)
    if dlist.created_at > period.end:
        return "not_due"  # the list did not exist when this period ended
    exists = select(DigestRun.id).where(
        DigestRun.list_id == dlist.id,
        DigestRun.frequency == period.frequency,
        DigestRun.period_start == period.start_date,
    )
    if session.scalar(exists) is not None:
        return "done"
    run = DigestRun(list_id=dlist.id, frequency=period.frequency,
                    period_start=period.start_date, created_at=now)  # fmt: skip
    session.add(run)
    session.flush()  # the unique key: a concurrent run stops here
    entries = published_in(session, period)
    mails = 0
    for recipient in resolve(session, [dlist], for_digest=True):
        mine = [e for e in entries if may_receive(e, recipient, dlist.id)]
        if mine:
            _queue_mail(session, recipient, mine, dlist, period, run.id, mailing)
            mails += 1
    run.bulletins, run.recipients = len(entries), mails
    return mails


def published_in(session: Session, period: Period) -> list[Entry]:
    """The bulletins with a revision published in ``period``, as last published, oldest first
    (digest bulletins left out)."""
    in_period = select(BulletinRevision.bulletin_id).where(
        BulletinRevision.published_at >= period.start, BulletinRevision.published_at < period.end
    )
    rows = session.execute(
        select(Bulletin.id, Bulletin.published_at, BulletinRevision.published_at,
               BulletinRevision.snapshot)
        .join(BulletinRevision, and_(BulletinRevision.bulletin_id == Bulletin.id,
                                     BulletinRevision.number == Bulletin.revision))
        .where(Bulletin.id.in_(in_period), Bulletin.kind != BulletinKind.DIGEST)
        .order_by(BulletinRevision.published_at, Bulletin.id)
    ).all()  # fmt: skip
    ids = [row[0] for row in rows]
    # the organisations as last published (a revision in progress may change them)
    concerned = _pairs(session, BulletinPublishedOrganisation.bulletin_id,
                       BulletinPublishedOrganisation.organisation_id, ids)  # fmt: skip
    lists = _pairs(session, BulletinList.bulletin_id, BulletinList.list_id, ids)
    return [
        Entry(
            from_snapshot(bid, snap, (), published_at=first, revised_at=last),
            frozenset(concerned.get(bid, ())),
            frozenset(lists.get(bid, ())),
        )  # fmt: skip
        for bid, first, last, snap in rows
    ]


def _pairs(
    session: Session, key: InstrumentedAttribute[int], value: InstrumentedAttribute[int],
    ids: list[int],
) -> dict[int, set[int]]:  # fmt: skip
    out: dict[int, set[int]] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        for k, v in session.execute(select(key, value).where(key.in_(part))):
            out.setdefault(k, set()).add(v)
    return out


def may_receive(entry: Entry, recipient: Recipient, list_id: int) -> bool:
    if entry.view.tlp == Tlp.RED and list_id not in entry.lists:
        return False  # TLP:RED: only the named people it was sent to
    return refusal(entry.view.tlp, recipient, entry.concerned) is None


def _queue_mail(
    session: Session,
    recipient: Recipient,
    entries: list[Entry],
    dlist: DistributionList,
    period: Period,
    run_id: int,
    mailing: Mailing,
) -> None:
    settings, language = mailing.settings, recipient.language
    tlp = max((e.view.tlp for e in entries), key=lambda t: t.rank)
    unsubscribe, headers = None, None
    if not recipient.security_contact:
        token = tokens.sign(mailing.secret_key, dlist.id, recipient.email)
        unsubscribe = f"{settings.base_url}/advisories/unsubscribe/{token}"
        headers = {
            "List-Unsubscribe": f"<{unsubscribe}/one-click>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    context = {
        "cert_name": settings.cert_name,
        "weekly": period.frequency == DigestFrequency.WEEKLY,
        "date": format_date(period.start_date, "d MMMM y", locale=language),
        "tlp": tlp.value,
        "list_name": dlist.name,
        "entries": [_entry(e, language, settings.base_url) for e in entries],
        "unsubscribe_url": unsubscribe,
    }
    message_id = insert_template_mail(
        session, to=recipient.email, template=TEMPLATE, context=context, language=language,
        tlp=tlp.value, related=("digest_run", run_id), clock=mailing.clock,
        mail_domain=mailing.mail_domain, headers=headers,
    )  # fmt: skip
    session.add(
        DigestDelivery(
            run_id=run_id, email=recipient.email, name=recipient.name[:200], language=language,
            organisation_id=recipient.organisation_id, bulletins=len(entries),
            outbox_message_id=message_id, created_at=mailing.clock.now(),
        )
    )  # fmt: skip


def _entry(entry: Entry, language: str, base_url: str) -> dict[str, str]:
    view = entry.view
    reference = view.reference or ""
    # the public archive for TLP:CLEAR; the bulletin page (sign-in, bulletins.access) otherwise
    path = f"advisories/{reference}" if view.tlp == Tlp.CLEAR else f"bulletins/{view.id}"
    return {
        "reference": reference,
        "title": view.text(language).title,
        "risk": view.risk.value,
        "tlp": view.tlp.value,
        "url": f"{base_url}/{path}",
    }


# ------------------------------------------------------------------ leaving
def unsubscribe(session: Session, list_id: int, email: str, *, now: dt.datetime) -> bool:
    """Record that ``email`` left ``list_id``'s digests (idempotent); False when the list is
    gone. The caller's transaction."""
    if session.get(DistributionList, list_id) is None:
        return False
    email = email.lower()
    known = select(ListUnsubscribe.id).where(
        ListUnsubscribe.list_id == list_id, ListUnsubscribe.email == email
    )
    if session.scalar(known) is None:
        session.add(ListUnsubscribe(list_id=list_id, email=email, created_at=now))
        session.flush()
    return True
