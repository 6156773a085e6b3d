"""Notification e-mails per preference, through the mail job (``incidents.notifications.mail``)
and the outbox to a real SMTP server: immediately (one message per user and run), in a daily
digest from the digest hour on (once a day), or never; read notifications are not mailed; each
in the recipient's language, with the reference and the sentence, and never a TLP:RED title."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.outbox import OutboxMessage
from incidents.notifications import inbox, jobs, preferences
from incidents.notifications.mailing import digest_slot
from incidents.notifications.models import EmailMode
from incidents.workspace import workflow
from tests.incidents.notifications.scene import (
    BASE_URL,
    Cert,
    commit_and_deliver,
    drain_to,
    html_of,
    job_context,
    make_cert,
    notifications,
    text_of,
)
from tests.kit.factories import report
from tests.kit.smtp import Received, SmtpServer


@pytest.fixture
def cert(db_session: Session, clock: FrozenClock) -> Cert:
    return make_cert(db_session, clock)


def mail_job(factory: sessionmaker[Session], clock: FrozenClock) -> dict[str, int]:
    return dict(jobs.send_mail(job_context(factory, clock)))


def to(received: list[Received], address: str) -> list[Received]:
    return [r for r in received if address in r.rcpt_tos]


def to_staff(received: list[Received]) -> list[Received]:
    """Without the acknowledgements of the reports, which go to their reporters."""
    return [r for r in received if all(a.endswith("@cert.ma") for a in r.rcpt_tos)]


def test_digest_slot_is_the_latest_digest_hour_in_the_cert_time_zone() -> None:
    zone = "Africa/Casablanca"  # UTC+1 in January 2026
    at = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)  # 10:00 there
    assert digest_slot(at, 8, zone) == dt.datetime(2026, 1, 15, 7, 0, tzinfo=dt.UTC)
    early = dt.datetime(2026, 1, 15, 6, 0, tzinfo=dt.UTC)  # 07:00 there: yesterday's
    assert digest_slot(early, 8, zone) == dt.datetime(2026, 1, 14, 7, 0, tzinfo=dt.UTC)


def test_immediate_mails_arrive_once_in_each_recipients_language(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
    smtp: SmtpServer,
) -> None:
    cert.on_duty.locale = "ar"
    amber = report(db_session, clock, cert.reporter, title="Hameçonnage de la messagerie")
    red = report(db_session, clock, cert.reporter, title="Fuite du cabinet", tlp="TLP:RED")
    commit_and_deliver(db_session, session_factory, clock)
    counts = mail_job(session_factory, clock)
    assert counts["immediate"] == 2  # the lead and the analyst on duty (AMBER only)
    db_session.commit()
    received = to_staff(drain_to(smtp, session_factory, clock))
    assert len(received) == 2
    [lead] = to(received, cert.lead.email)
    [duty] = to(received, cert.on_duty.email)
    lead_text = text_of(lead)
    assert f"Nouvel incident {amber.reference}" in lead_text
    assert f"Nouvel incident {red.reference}" in lead_text
    assert "Hameçonnage de la messagerie" in lead_text
    assert "Fuite du cabinet" not in lead_text  # a TLP:RED title never leaves by e-mail
    assert "Fuite du cabinet" not in html_of(lead)
    assert f"{BASE_URL}/incidents/{red.reference}" in lead_text
    assert lead.message["Content-Language"] == "fr"
    assert "Notifications" in str(lead.message["Subject"])
    duty_text = text_of(duty)
    assert duty.message["Content-Language"] == "ar"
    assert amber.reference in duty_text and red.reference not in duty_text
    assert 'dir="rtl"' in html_of(duty)
    assert all(not n.mail_pending for n in notifications(db_session, cert.lead))
    assert mail_job(session_factory, clock)["immediate"] == 0  # nothing twice
    db_session.commit()
    assert to_staff(drain_to(smtp, session_factory, clock)) == []


def test_digest_goes_once_a_day_from_the_digest_hour(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
    smtp: SmtpServer,
) -> None:
    preferences.set_email_mode(
        db_session, Actor.for_user(cert.lead), cert.lead, EmailMode.DIGEST, clock=clock
    )
    first = report(db_session, clock, cert.reporter)
    second = report(db_session, clock, cert.reporter)
    commit_and_deliver(db_session, session_factory, clock)
    assert mail_job(session_factory, clock)["digests"] == 0  # chosen today: tomorrow's digest
    db_session.commit()
    assert to(drain_to(smtp, session_factory, clock), cert.lead.email) == []
    clock.set(dt.datetime(2026, 1, 16, 6, 59, tzinfo=dt.UTC))  # 07:59 in Casablanca
    assert mail_job(session_factory, clock)["digests"] == 0
    clock.set(dt.datetime(2026, 1, 16, 7, 0, tzinfo=dt.UTC))  # 08:00
    assert mail_job(session_factory, clock)["digests"] == 1
    db_session.commit()
    [digest] = to(drain_to(smtp, session_factory, clock), cert.lead.email)
    body = text_of(digest)
    assert "résumé quotidien" in str(digest.message["Subject"]).lower()
    assert first.reference in body and second.reference in body
    third = report(db_session, clock, cert.reporter)
    commit_and_deliver(db_session, session_factory, clock)
    clock.advance(hours=5)
    assert mail_job(session_factory, clock)["digests"] == 0  # once a day
    clock.set(dt.datetime(2026, 1, 17, 7, 0, tzinfo=dt.UTC))
    assert mail_job(session_factory, clock)["digests"] == 1
    db_session.commit()
    [again] = to(drain_to(smtp, session_factory, clock), cert.lead.email)
    text = text_of(again)
    assert third.reference in text and first.reference not in text


def test_off_and_read_notifications_are_not_mailed(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
    smtp: SmtpServer,
) -> None:
    preferences.set_email_mode(
        db_session, Actor.for_user(cert.on_duty), cert.on_duty, "off", clock=clock
    )
    report(db_session, clock, cert.reporter)
    commit_and_deliver(db_session, session_factory, clock)
    assert not any(n.mail_pending for n in notifications(db_session, cert.on_duty))
    inbox.mark_all_read(db_session, Actor.for_user(cert.lead), clock=clock)
    db_session.commit()
    counts = mail_job(session_factory, clock)
    assert counts["immediate"] == 0
    db_session.commit()
    assert to_staff(drain_to(smtp, session_factory, clock)) == []


def test_a_change_of_mind_applies_to_what_is_still_pending(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    report(db_session, clock, cert.reporter)
    commit_and_deliver(db_session, session_factory, clock)  # pending for the lead
    preferences.set_email_mode(
        db_session, Actor.for_user(cert.lead), cert.lead, EmailMode.OFF, clock=clock
    )
    db_session.commit()
    counts = mail_job(session_factory, clock)
    assert counts["dropped"] == 1 and counts["immediate"] == 1  # only the analyst on duty
    db_session.commit()
    messages = db_session.scalars(select(OutboxMessage.to_addr)).all()
    assert cert.lead.email not in messages


def test_a_red_incident_no_longer_visible_is_mailed_without_its_link(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    red = report(db_session, clock, cert.reporter, tlp="TLP:RED")
    lead = Actor.for_user(cert.lead)
    workflow.assign(db_session, lead, red, cert.analyst, clock=clock)
    commit_and_deliver(db_session, session_factory, clock)
    workflow.assign(db_session, lead, red, cert.analyst2, clock=clock)  # taken away
    db_session.commit()
    mail_job(session_factory, clock)
    db_session.commit()
    [message] = db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_addr == cert.analyst.email)
    ).all()
    [item] = (message.template_context or {})["items"]
    assert item["reference"] == red.reference
    assert item["title"] is None and item["url"] is None
