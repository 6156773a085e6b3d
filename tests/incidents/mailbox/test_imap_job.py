"""The scheduler's mailbox job through a real IMAP server (pymap on loopback, tests/kit/imap.py)
and a real SMTP server (tests/kit/smtp.py), on both databases: issue 21's "done when" for the
IMAP way in — a report becomes an incident whose acknowledgement threads the reply, automatic
and unknown mail is held, nothing is read twice after a restart, a refused login touches
nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cert.cli import load_commands
from core.clock import FrozenClock
from core.config import load_config
from core.db import make_engine, make_session_factory
from core.jobs import JobContext, JobRun, JobStatus, run_slot
from core.outbox import OutboxMessage
from incidents.actions import IncidentAction
from incidents.mailbox import fetching, jobs
from incidents.mailbox.models import HoldReason, InboundMail, MailStatus
from incidents.models import Attachment, Incident, IncidentEvent, IncidentObservable
from incidents.settings import IntakeSettings, MailSettings
from tests.dbs import TestDatabase
from tests.kit.imap import PASSWORD, ImapServer, relay
from tests.kit.outbox import drain, mailer_for
from tests.kit.smtp import SmtpServer
from tests.kit.world import World

CONTACT = "soc@interieur.gov.ma"  # a registered contact of the Interior ministry
CERT_ADDRESS = "cert@cert.example"
PASSWORD_VAR = "VIGIE_TEST_IMAP_PASSWORD"
DONE = "Vigie-traités"  # non-ASCII: sent in modified UTF-7
JOB = "incidents.mailbox.read"
SLOT = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)


def mail(
    sender: str, subject: str, text: str, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = CERT_ADDRESS
    message["Subject"] = subject
    message["Date"] = "Fri, 04 Dec 2026 09:30:00 +0000"
    message["Message-ID"] = extra.get("message_id", f"<{abs(hash((sender, subject)))}@mua.test>")
    for key, value in (headers or {}).items():
        message[key] = value
    message.set_content(text)
    for name, content in extra.get("files", ()):
        message.add_attachment(content, maintype="text", subtype="plain", filename=name)
    return message.as_bytes(policy=SMTP)


REPORT = mail(
    CONTACT,
    "Poste compromis à la préfecture",
    "Bonjour,\n\nUn poste contacte 203.0.113.77 toutes les minutes.\n",
    message_id="<report-1@interieur.gov.ma>",
)

BOUNCE = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.interieur.gov.ma>\r\n"
    b"To: cert@cert.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
    b"Date: Fri, 04 Dec 2026 09:31:00 +0000\r\nMessage-ID: <bounce-1@mx.interieur.gov.ma>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
    b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mx.interieur.gov.ma\r\n\r\n"
    b"Final-Recipient: rfc822; absent@interieur.gov.ma\r\nAction: failed\r\n"
    b"Status: 5.1.1\r\n\r\n--b--\r\n"
)


@dataclass
class Scene:
    factory: sessionmaker[Session]
    clock: FrozenClock
    imap: ImapServer
    settings: IntakeSettings

    def context(self, url: str | None = None, **config: Any) -> JobContext:
        """What a (re)started scheduler builds: a new context from configuration."""
        values = {
            "secret_key": "k" * 40,
            "imap_url": url or self.imap.url(),
            "imap_password_env": PASSWORD_VAR,
            "imap_done_folder": DONE,
            **config,
        }
        with self.factory() as session:
            engine = session.get_bind().engine
        return JobContext(
            config=load_config(values, environ={}),
            engine=engine,
            session_factory=self.factory,
            clock=self.clock,
            runner="test:1",
            settings={"incidents": self.settings},
        )

    def run(self, context: JobContext | None = None) -> dict[str, int]:
        return dict(jobs.read_mailbox(context or self.context()))

    def run_recorded(self, context: JobContext, slot: dt.datetime = SLOT) -> JobRun:
        run = run_slot(
            self.factory, JOB, slot, lambda: jobs.read_mailbox(context), clock=self.clock,
            runner="test:1",
        )  # fmt: skip
        assert run is not None
        return run

    def scalars(self, query: Any) -> list[Any]:
        with self.factory() as session:
            return list(session.scalars(query))

    def count(self, model: Any) -> int:
        with self.factory() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def scene(
    factory: sessionmaker[Session],
    clock: FrozenClock,
    imap: ImapServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Scene:
    with factory() as session:
        world = World(session, clock)
        world.interieur.contact_emails = [CONTACT]
        world.sante.contact_emails = ["soc@sante.gov.ma"]
        session.commit()
    monkeypatch.setenv(PASSWORD_VAR, PASSWORD)
    settings = IntakeSettings(
        base_url="https://vigie.cert.example",
        mail_domain="cert.example",
        upload_dir=tmp_path / "uploads",
        mail=MailSettings(mail_dir=tmp_path / "uploads" / "mail", own_address=CERT_ADDRESS),
    )
    return Scene(factory, clock, imap, settings)


def acknowledgement(scene: Scene, smtp: SmtpServer, reference: str) -> EmailMessage:
    drain(scene.factory, mailer_for(smtp), scene.clock)
    sent = [r.message for r in smtp.handler.received if reference in str(r.message["Subject"])]
    assert len(sent) == 1, [str(r.message["Subject"]) for r in smtp.handler.received]
    assert sent[0]["To"].addresses[0].addr_spec == CONTACT
    return sent[0]


def test_a_report_becomes_an_incident_and_the_reply_to_its_acknowledgement_threads(
    scene: Scene, smtp: SmtpServer
) -> None:
    scene.imap.append(REPORT)

    counts = scene.run()

    assert counts == {"fetched": 1, "incidents": 1, "replies": 0, "held": 0, "failed": 0,
                      "duplicates": 0, "discarded": 0, "refused": 0}  # fmt: skip
    [incident] = scene.scalars(select(Incident))
    assert incident.title == "Poste compromis à la préfecture"
    values = {o.value for o in scene.scalars(select(IncidentObservable))}
    assert "203.0.113.77" in values
    assert scene.imap.messages() == []
    [moved] = scene.imap.messages(DONE)
    assert moved.raw == REPORT
    assert "\\Seen" not in moved.flags  # read with BODY.PEEK[]: still unread for a person

    ack = acknowledgement(scene, smtp, incident.reference)
    reply = mail(
        CONTACT,
        f"Re: {ack['Subject']}",
        "Voici le journal du pare-feu.\n",
        message_id="<reply-1@interieur.gov.ma>",
        headers={"In-Reply-To": str(ack["Message-ID"]), "References": str(ack["Message-ID"])},
        files=[("pare-feu.log", b"deny 203.0.113.77 -> 10.0.0.5:445\n")],
    )
    intruder = mail(
        "soc@sante.gov.ma",
        f"Re: {ack['Subject']}",
        "Nous aussi, regardez ceci.\n",
        headers={"In-Reply-To": str(ack["Message-ID"])},
        files=[("autre.log", b"nothing to see\n")],
    )
    scene.imap.append(reply)
    scene.imap.append(intruder)  # another ministry answering the same thread

    counts = scene.run()

    assert (counts["fetched"], counts["replies"], counts["held"]) == (2, 1, 1)
    assert counts["incidents"] == 0
    [held] = scene.scalars(select(InboundMail).where(InboundMail.status == MailStatus.HELD))
    assert held.hold_reason is HoldReason.OTHER_ORGANISATION
    [row] = scene.scalars(select(InboundMail).where(InboundMail.status == MailStatus.REPLY))
    assert row.incident_id == incident.id
    files = scene.scalars(select(Attachment).where(Attachment.incident_id == incident.id))
    assert [f.filename for f in files] == ["pare-feu.log"]
    answers = scene.scalars(
        select(IncidentEvent).where(
            IncidentEvent.incident_id == incident.id,
            IncidentEvent.kind == IncidentAction.REPORTER_REPLY.kind,
        )
    )
    assert len(answers) == 1
    assert answers[0].public
    assert "Voici le journal du pare-feu." in answers[0].data["body"]
    assert scene.imap.messages() == []
    assert [m.raw for m in scene.imap.messages(DONE)] == [REPORT, reply, intruder]


def test_an_auto_reply_and_an_unknown_sender_are_held_without_an_answer(scene: Scene) -> None:
    away = mail(
        CONTACT,
        "Absence du bureau",
        "Je suis absent jusqu'au 15 décembre.\n",
        headers={"Auto-Submitted": "auto-replied"},
    )
    stranger = mail("someone@unknown.example", "Urgent", "Cliquez ici : http://x.example/\n")
    scene.imap.append(away)
    scene.imap.append(stranger)
    scene.imap.append(BOUNCE)

    counts = scene.run()

    assert (counts["fetched"], counts["held"], counts["incidents"]) == (3, 3, 0)
    rows = scene.scalars(select(InboundMail).order_by(InboundMail.id))
    assert [r.hold_reason for r in rows] == [
        HoldReason.AUTO_REPLY,
        HoldReason.UNKNOWN_SENDER,
        HoldReason.BOUNCE,
    ]
    assert scene.count(Incident) == 0
    assert scene.count(OutboxMessage) == 0  # no backscatter, no answer to a robot
    assert scene.imap.messages() == []
    assert len(scene.imap.messages(DONE)) == 3


def test_nothing_is_read_twice_after_a_restart(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run stopped after storing a message and before moving it (the connection to the IMAP
    server cut for real between the two): the next scheduler reads it again, finds it stored,
    creates nothing twice and moves it; then there is nothing left to read."""
    scene.imap.append(REPORT)
    real_receive = fetching.receive
    with relay(scene.imap) as front:

        def receive_then_lose_the_server(*args: Any, **kwargs: Any) -> Any:
            received = real_receive(*args, **kwargs)
            front.cut()  # the IMAP server is gone before the message is moved
            return received

        monkeypatch.setattr(fetching, "receive", receive_then_lose_the_server)
        interrupted = scene.run_recorded(scene.context(scene.imap.url(port=front.port)))
        monkeypatch.setattr(fetching, "receive", real_receive)

    assert interrupted.status is JobStatus.FAILED
    assert interrupted.error is not None
    assert "connection lost during UID MOVE" in interrupted.error
    assert "fetched 1, incidents 1" in interrupted.error
    assert [m.raw for m in scene.imap.messages()] == [REPORT]  # still in the inbox
    assert scene.count(Incident) == 1
    acknowledgements = scene.count(OutboxMessage)
    assert acknowledgements == 1

    restarted = scene.run_recorded(scene.context(), SLOT + dt.timedelta(minutes=1))

    assert restarted.status is JobStatus.SUCCESS
    assert restarted.counts is not None
    assert (restarted.counts["fetched"], restarted.counts["duplicates"]) == (1, 1)
    assert restarted.counts["incidents"] == 0
    assert scene.count(Incident) == 1
    assert scene.count(InboundMail) == 1
    assert scene.count(OutboxMessage) == acknowledgements
    assert scene.imap.messages() == []
    assert [m.raw for m in scene.imap.messages(DONE)] == [REPORT]

    assert scene.run(scene.context())["fetched"] == 0


def test_a_database_down_stops_the_run_and_leaves_the_message(scene: Scene) -> None:
    scene.imap.append(REPORT)
    context = scene.context()
    engine = make_engine("postgresql+psycopg://vigie@127.0.0.1:1/nowhere")  # nothing listens
    down = JobContext(
        config=context.config,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=scene.clock,
        runner="test:1",
        settings=context.settings,
    )
    with pytest.raises(fetching.MailboxUnavailable, match="could not be stored") as stopped:
        jobs.read_mailbox(down)
    assert "left in the mailbox for the next run" in str(stopped.value)
    assert "127.0.0.1" in str(stopped.value)  # which database: the driver's own words
    engine.dispose()
    assert [m.raw for m in scene.imap.messages()] == [REPORT]

    assert scene.run()["incidents"] == 1  # the database back: read and moved
    assert scene.imap.messages() == []


def test_a_wrong_password_fails_the_run_clearly_and_touches_nothing(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene.imap.append(REPORT)
    monkeypatch.setenv(PASSWORD_VAR, "not-the-Pa55word")

    run = scene.run_recorded(scene.context())

    assert run.status is JobStatus.FAILED
    assert run.error is not None
    assert "IMAP login refused for vigie@127.0.0.1" in run.error
    assert "not-the-Pa55word" not in run.error
    [left] = scene.imap.messages()
    assert left.raw == REPORT
    assert "\\Seen" not in left.flags
    assert scene.count(InboundMail) == 0

    monkeypatch.delenv(PASSWORD_VAR)
    missing = scene.run_recorded(scene.context(), SLOT + dt.timedelta(minutes=1))
    assert missing.status is JobStatus.FAILED
    assert missing.error is not None
    assert f"set the environment variable {PASSWORD_VAR}" in missing.error


def test_nothing_configured_reads_nothing(scene: Scene) -> None:
    context = scene.context()
    context = JobContext(
        config=load_config({"secret_key": "k" * 40}, environ={}),
        engine=context.engine,
        session_factory=scene.factory,
        clock=scene.clock,
        runner="test:1",
        settings=context.settings,
    )
    assert scene.run(context) == {"configured": 0}


def test_the_done_folder_must_differ_from_the_folder_read(scene: Scene) -> None:
    scene.imap.append(REPORT)
    with pytest.raises(fetching.MailboxUnavailable, match="CERT_IMAP_DONE_FOLDER must differ"):
        scene.run(scene.context(imap_done_folder="inbox"))
    assert len(scene.imap.messages()) == 1


@pytest.fixture
def cert_env(
    fresh_database: TestDatabase, tmp_path: Path, imap: ImapServer
) -> Iterator[dict[str, str]]:
    yield {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
        "CERT_IMAP_URL": imap.url(),
        "CERT_IMAP_DONE_FOLDER": DONE,
        "CERT_IMAP_PASSWORD": PASSWORD,
    }


def test_cert_mail_fetch_reads_the_mailbox_once(imap: ImapServer, cert_env: dict[str, str]) -> None:
    imap.append(mail("someone@unknown.example", "Bonjour", "Qui êtes-vous ?\n"))
    cli = load_commands()
    result = CliRunner().invoke(cli, ["mail", "fetch"], env=cert_env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "fetched=1" in result.output
    assert "held=1" in result.output
    assert imap.messages() == []

    refused = CliRunner().invoke(
        cli, ["mail", "fetch"], env={**cert_env, "CERT_IMAP_PASSWORD": "nope"}
    )
    assert refused.exit_code == 1
    assert "IMAP login refused for vigie@127.0.0.1" in refused.output
    assert "nope" not in refused.output

    unset = {key: value for key, value in cert_env.items() if key != "CERT_IMAP_URL"}
    nothing = CliRunner().invoke(cli, ["mail", "fetch"], env={**unset, "CERT_IMAP_URL": ""})
    assert nothing.exit_code == 1
    assert "CERT_IMAP_URL is not set" in nothing.output
