"""The reporter's e-mails on status changes, through the events, the mail job and the outbox to a
real SMTP server: in the reporter's language with the ``/track`` link, with the resolution once
resolved — and never twice: closing and replies are mailed by their use cases only, a change
outrun by a later one is folded into it, and an event is delivered at most once."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.identity.authz import Actor
from incidents.models import Incident
from incidents.notifications import jobs
from incidents.workspace import conversation, merge, workflow
from tests.incidents.notifications.scene import (
    BASE_URL,
    Cert,
    commit_and_deliver,
    deliver,
    drain_to,
    html_of,
    job_context,
    make_cert,
    text_of,
)
from tests.incidents.workspace_helpers import events
from tests.kit.factories import SETTINGS, report
from tests.kit.smtp import Received, SmtpServer


@pytest.fixture
def cert(db_session: Session, clock: FrozenClock) -> Cert:
    return make_cert(db_session, clock)


def run(
    session: Session, factory: sessionmaker[Session], clock: FrozenClock, server: SmtpServer
) -> list[Received]:
    """Deliver the events, run the mail job, send the outbox: the mails to reporters."""
    commit_and_deliver(session, factory, clock)
    jobs.send_mail(job_context(factory, clock))
    received = drain_to(server, factory, clock)
    session.expire_all()
    return [r for r in received if not r.rcpt_tos[0].endswith("@cert.ma")]


def subjects(received: list[Received]) -> list[str]:
    return [str(r.message["Subject"]) for r in received]


def test_a_status_change_is_mailed_once_in_the_reporters_language(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
    smtp: SmtpServer,
) -> None:
    incident = report(db_session, clock, cert.reporter)  # amal writes English
    run(db_session, session_factory, clock, smtp)  # the acknowledgement
    workflow.change_status(
        db_session,
        Actor.for_user(cert.analyst),
        incident,
        "triaged",
        clock=clock,
        settings=SETTINGS,
    )
    [mail] = run(db_session, session_factory, clock, smtp)
    assert mail.rcpt_tos == [cert.reporter.email]
    assert mail.message["Content-Language"] == "en"
    assert str(mail.message["Subject"]) == (
        f"[TLP:AMBER] New status: Under review — {incident.reference}"
    )
    body = text_of(mail)
    assert "is now: Under review." in body
    assert f"{BASE_URL}/track/{incident.reference}" in body
    [line] = events(db_session, incident, "mail")[-1:]
    assert (line.public, line.data["template"]) == (False, "status_changed")
    assert deliver(session_factory, clock)["delivered"] == 0
    assert run(db_session, session_factory, clock, smtp) == []  # never twice


def test_resolution_then_closing_each_mailed_once(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
    smtp: SmtpServer,
) -> None:
    cert.reporter.locale = "ar"
    incident = report(db_session, clock, cert.reporter)
    analyst = Actor.for_user(cert.analyst)
    workflow.change_status(db_session, analyst, incident, "triaged", clock=clock, settings=SETTINGS)
    workflow.change_status(
        db_session,
        analyst,
        incident,
        "resolved",
        resolution="Le domaine a été suspendu.",
        assignee=cert.analyst,
        clock=clock,
        settings=SETTINGS,
    )
    received = run(db_session, session_factory, clock, smtp)
    assert len(received) == 2  # the acknowledgement, then "resolved" ("triaged" was outrun)
    resolved = received[1]
    assert resolved.message["Content-Language"] == "ar"
    assert "Le domaine a été suspendu." in text_of(resolved)
    assert 'dir="rtl"' in html_of(resolved)
    workflow.change_status(db_session, analyst, incident, "closed", clock=clock, settings=SETTINGS)
    [closing] = run(db_session, session_factory, clock, smtp)  # the closing message alone
    assert closing.rcpt_tos == [cert.reporter.email]
    templates = [line.data.get("template") for line in events(db_session, incident, "mail")]
    assert templates == ["status_changed", "closing"]


def test_a_reply_is_mailed_by_the_reply_alone(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
    smtp: SmtpServer,
) -> None:
    incident = report(db_session, clock, cert.reporter)
    run(db_session, session_factory, clock, smtp)
    conversation.reply_to_reporter(
        db_session,
        Actor.for_user(cert.analyst),
        incident,
        "Please send the headers.",
        clock=clock,
        settings=SETTINGS,
    )
    [reply] = run(db_session, session_factory, clock, smtp)
    assert "Please send the headers." in text_of(reply)


def test_a_merged_report_tells_its_reporter_where_it_is_followed(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
    smtp: SmtpServer,
) -> None:
    survivor = report(db_session, clock, cert.reporter)
    same = report(db_session, clock, cert.reporter)
    other = report(db_session, clock, cert.w.other_reporter, title="Autre ministère")
    run(db_session, session_factory, clock, smtp)
    lead = Actor.for_user(cert.lead)
    merge.merge(db_session, lead, survivor, same, clock=clock, settings=SETTINGS)
    merge.merge(
        db_session,
        lead,
        survivor,
        other,
        clock=clock,
        settings=SETTINGS,
        confirm_organisations=["min-interieur", "min-sante"],
    )
    received = run(db_session, session_factory, clock, smtp)
    by_reporter = {r.rcpt_tos[0]: text_of(r) for r in received}
    assert set(by_reporter) == {cert.reporter.email, cert.w.other_reporter.email}
    assert survivor.reference in by_reporter[cert.reporter.email]  # the same organisation
    assert survivor.reference not in by_reporter[cert.w.other_reporter.email]  # never another's
    assert other.reference in by_reporter[cert.w.other_reporter.email]


def test_without_an_address_nothing_is_sent_and_nothing_waits(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
    smtp: SmtpServer,
) -> None:
    incident = report(db_session, clock, cert.reporter)
    run(db_session, session_factory, clock, smtp)
    cert.reporter.is_active = False  # a deactivated reporter, no contact address given
    incident.contact_email = None
    workflow.change_status(
        db_session,
        Actor.for_user(cert.analyst),
        incident,
        "triaged",
        clock=clock,
        settings=SETTINGS,
    )
    assert run(db_session, session_factory, clock, smtp) == []
    assert jobs.send_mail(job_context(session_factory, clock))["reporters"] == 0
    assert isinstance(db_session.get(Incident, incident.id), Incident)
