"""``cert mail receive|reprocess|list`` through the real ``cert`` group on both databases: the
issue's "done when" by standard input — a ministry contact's report becomes an incident whose
acknowledgement, sent to a real SMTP server by the outbox drain, threads the contact's reply
(with its file) into the conversation and notifies the assignee; another ministry's reply, an
auto-reply, a bounce and a forged (DMARC-failed) message are held and nothing is ever sent to
them; a message that crashes the parser is kept and reprocessed after the fix; the same message
twice is handled once; the exit codes an MTA acts on."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert.cli import cli, load_commands
from core.clock import SystemClock
from core.events import deliver_events
from core.mail_sender import drain_outbox
from core.sealing import Sealer
from incidents.mailbox import processing
from incidents.mailbox.message import ParsedMail
from incidents.models import Attachment, Incident, IncidentEvent
from incidents.notifications.models import Notification, NotificationKind
from incidents.slice import SLICE
from tests.dbs import TestDatabase
from tests.kit.events import slice_settings
from tests.kit.mail import (
    CERT_ADDRESS,
    MX,
    authentication_results,
    auto_reply,
    bounce,
    reply,
    report,
)
from tests.kit.outbox import mailer_for
from tests.kit.smtp import SmtpServer
from tests.kit.world import World

load_commands()

SECRET = "s" * 40
CONTACT = "soc@interieur.gov.ma"
OTHER_CONTACT = "soc@sante.gov.ma"
STRANGER = "inconnu@gmail.example"
FAILED_DMARC = authentication_results(dmarc="fail", dkim="fail", spf="softfail")


@pytest.fixture
def env(fresh_database: TestDatabase, tmp_path: Path, smtp: SmtpServer) -> dict[str, str]:
    return {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_SECRET_KEY": SECRET,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_UPLOAD_DIR": str(tmp_path / "uploads"),
        "CERT_MAIL_FROM": f"CERT <{CERT_ADDRESS}>",
        "CERT_MAIL_TRUSTED_AUTHSERV_ID": MX,
        "CERT_SMTP_URL": smtp.url,
    }


@pytest.fixture
def ministries(factory: sessionmaker[Session]) -> Iterator[World]:
    with factory() as session:
        world = World(session, SystemClock())
        world.interieur.contact_emails = [CONTACT]
        world.sante.contact_emails = [OTHER_CONTACT]
        _ = world.analyst, world.other_reporter
        session.commit()
        yield world


def _run(env: dict[str, str], *args: str, data: bytes | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["mail", *args], env=env, input=data)
    return result.exit_code, result.output


def _receive(env: dict[str, str], data: bytes) -> list[str]:
    code, out = _run(env, "receive", data=data)
    assert code == 0, out
    words = out.splitlines()[0].split()
    assert words[0] == "stored", out
    return words[1:]


def _drain(factory: sessionmaker[Session], smtp: SmtpServer) -> None:
    drain_outbox(
        factory, mailer_for(smtp), clock=SystemClock(), mail_from=f"CERT <{CERT_ADDRESS}>",
        max_attempts=3, sealer=Sealer(SECRET),
    )  # fmt: skip


def _sent_to(smtp: SmtpServer, address: str) -> list[EmailMessage]:
    return [r.message for r in smtp.handler.received if address in r.rcpt_tos]


def test_a_report_by_mail_an_acknowledgement_that_threads_and_a_reply_with_its_file(
    env: dict[str, str], factory: sessionmaker[Session], smtp: SmtpServer, ministries: World
) -> None:
    sent = report(
        CONTACT,
        subject="Hameçonnage visant la messagerie",
        text="Bonjour,\n\nLe lien hxxp://connexion-webmail[.]example/owa circule.\n",
        auth=authentication_results(),
    )
    mail_id, status, reference = _receive(env, sent)
    assert status == "incident"
    with factory() as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        assert incident is not None and incident.organisation_id == ministries.interieur.id
        assert "connexion-webmail.example" in {o.value for o in incident.observables}
        incident.assignee_id = ministries.analyst.id
        session.commit()
    _drain(factory, smtp)
    [ack] = _sent_to(smtp, CONTACT)
    original_id = str(email.message_from_bytes(sent, policy=default)["Message-ID"])
    assert ack["In-Reply-To"] == original_id and reference in str(ack["Subject"])
    answer = reply(
        str(ack["Message-ID"]),
        CONTACT,
        subject=f"RE: {ack['Subject']}",
        text="Voici les en-têtes du courriel reçu.\n",
        files=[("entetes.txt", b"Received: from 198.51.100.9\n", "text/plain")],
        auth=authentication_results(),
    )
    assert _receive(env, answer)[1:] == ["reply", reference]
    with factory() as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        assert incident is not None
        [answered] = session.scalars(
            select(IncidentEvent).where(
                IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "reporter_reply"
            )
        ).all()
        assert answered.data["body"] == "<p>Voici les en-têtes du courriel reçu.</p>"
        [file] = session.scalars(select(Attachment).where(Attachment.event_id == answered.id))
        assert file.filename == "entetes.txt"
    deliver_events(factory, SLICE.handlers, clock=SystemClock(), settings=slice_settings())
    with factory() as session:
        kinds = session.scalars(
            select(Notification.kind).where(Notification.user_id == ministries.analyst.id)
        ).all()
        assert NotificationKind.REPORTER_ANSWERED in kinds
    # the same message twice is handled once
    assert _receive(env, sent) == [mail_id, "incident", reference]


def test_held_messages_are_never_merged_and_never_answered(
    env: dict[str, str], factory: sessionmaker[Session], smtp: SmtpServer, ministries: World
) -> None:
    _, _, reference = _receive(env, report(CONTACT, subject="Intrusion"))
    _drain(factory, smtp)
    [ack] = _sent_to(smtp, CONTACT)
    ack_id = str(ack["Message-ID"])
    held = {
        "other_organisation": reply(ack_id, OTHER_CONTACT, subject=f"RE: [{reference}]"),
        "auto_reply": auto_reply(CONTACT, in_reply_to=ack_id),
        "bounce": bounce(CONTACT, answered=ack_id),
        "dmarc_fail": report(CONTACT, subject=f"RE: [{reference}]", auth=FAILED_DMARC),
        "unknown_sender": report(STRANGER, subject=f"[{reference}] accès"),
    }  # fmt: skip
    for reason, data in held.items():
        assert _receive(env, data)[1:] == ["held", reason], reason
    _drain(factory, smtp)
    recipients = {address for r in smtp.handler.received for address in r.rcpt_tos}
    assert recipients == {CONTACT}  # one acknowledgement; no backscatter, no loop
    assert len(smtp.handler.received) == 1
    with factory() as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        assert incident is not None
        replies = session.scalars(
            select(IncidentEvent).where(
                IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "reporter_reply"
            )
        ).all()
        assert replies == []
    code, out = _run(env, "list", "--status", "held")
    assert code == 0 and len(out.splitlines()) == 5 and STRANGER in out


def _crash(raw: bytes, *, max_attachment_bytes: int) -> ParsedMail:
    raise RecursionError("maximum recursion depth exceeded while parsing MIME parts")


def test_a_message_crashing_the_parser_is_kept_and_reprocessed_after_the_fix(
    env: dict[str, str], ministries: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = report(CONTACT, subject="Rançongiciel")
    with monkeypatch.context() as broken:
        broken.setattr(processing, "parse", _crash)
        code, out = _run(env, "receive", data=sent)
        assert code == 0, out  # stored: the MTA must not bounce it
        mail_id, status = out.split()[1:3]
        assert status == "failed" and "RecursionError" in out
        code, out = _run(env, "reprocess", "--failed")
        assert code == 1 and f"reprocessed {mail_id} failed" in out
    code, out = _run(env, "reprocess", mail_id)
    assert code == 0 and out.startswith(f"reprocessed {mail_id} incident ")
    assert _run(env, "reprocess", "--failed") == (0, "nothing to reprocess\n")
    code, out = _run(env, "reprocess", "424242")
    assert code == 1 and "no message 424242" in out
    code, out = _run(env, "reprocess")
    assert code == 2 and "--failed" in out


def test_the_exit_codes_an_mta_acts_on(env: dict[str, str], tmp_path: Path) -> None:
    assert _run(env, "receive", data=b"")[0] == 65  # not a message: nothing to keep
    down = {**env, "CERT_DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'vigie.db'}"}
    code, out = _run(down, "receive", data=report(CONTACT))
    assert code == 75 and "try again later" in out  # the MTA keeps it and retries
