"""The reporter's status e-mail after a rejection or a duplicate (issue 17), at a real SMTP server:
the CERT's public reason instead of a bare "Not retained", the original's reference only when
the reporter may see it (same organisation), never another organisation's reference or title."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.identity.authz import Actor
from incidents.workspace import workflow
from tests.incidents.notifications.scene import Cert, html_of, make_cert, text_of
from tests.incidents.notifications.test_reporter_mail import run
from tests.kit.factories import SETTINGS, report
from tests.kit.smtp import SmtpServer


@pytest.fixture
def cert(db_session: Session, clock: FrozenClock) -> Cert:
    return make_cert(db_session, clock)


def test_the_rejection_mail_gives_the_public_reason(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
    smtp: SmtpServer,
) -> None:
    incident = report(db_session, clock, cert.reporter)  # amal writes English
    run(db_session, session_factory, clock, smtp)
    workflow.change_status(
        db_session, Actor.for_user(cert.analyst), incident, "rejected", clock=clock,
        settings=SETTINGS, reason="A power cut, not a security incident.",
    )  # fmt: skip
    [mail] = run(db_session, session_factory, clock, smtp)
    body = text_of(mail).replace("\r\n", "\n")
    assert "is now: Not retained." in body
    assert "Reason given by the CERT:\nA power cut, not a security incident." in body
    assert "A power cut, not a security incident." in html_of(mail)


def test_the_duplicate_mail_names_the_original_only_within_the_organisation(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
    smtp: SmtpServer,
) -> None:
    original = report(db_session, clock, cert.reporter, title="Hameçonnage DGSN interne")
    same = report(db_session, clock, cert.reporter)
    other = report(db_session, clock, cert.w.other_reporter)
    run(db_session, session_factory, clock, smtp)
    analyst = Actor.for_user(cert.analyst)
    for incident in (same, other):
        workflow.change_status(
            db_session, analyst, incident, "duplicate", clock=clock, settings=SETTINGS,
            reason="Same phishing campaign as an earlier report.",
            duplicate_of=original.reference,
        )  # fmt: skip
    received = run(db_session, session_factory, clock, smtp)
    by_reporter = {r.rcpt_tos[0]: r for r in received}
    assert set(by_reporter) == {cert.reporter.email, cert.w.other_reporter.email}
    mine, theirs = by_reporter[cert.reporter.email], by_reporter[cert.w.other_reporter.email]
    assert original.reference in text_of(mine)
    assert "Same phishing campaign as an earlier report." in text_of(mine)
    for part in (text_of(theirs), html_of(theirs), str(theirs.message["Subject"])):
        assert original.reference not in part and original.title not in part
    assert "Same phishing campaign as an earlier report." in text_of(theirs)
    assert other.reference in text_of(theirs)
