"""Receiving (``incidents.mailbox.receiving``) on both databases: the raw message is stored and
its row committed before anything reads it, so that a message whose processing fails (the
parser crashing for real, a failure half-way through an incident) is kept, marked ``failed``
with nothing half-written, and processed again by ``reprocess`` once fixed; the same bytes
received twice are handled once; an interrupted run is finished by the next delivery."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.audit import AuditEntry
from core.clock import SystemClock
from core.errors import NotFound, ValidationFailed
from core.outbox import OutboxMessage
from core.uow import unit_of_work
from incidents.intake import attachments
from incidents.mailbox import processing
from incidents.mailbox.message import ParsedMail
from incidents.mailbox.models import InboundMail, MailSource, MailStatus
from incidents.mailbox.receiving import Received, receive, reprocess
from incidents.mailbox.store import read_raw
from incidents.models import Incident
from tests.incidents.mailbox.conftest import Mailbox, mail_settings
from tests.kit.mail import PDF, report
from tests.kit.world import World


def _count(mailbox: Mailbox, model: type) -> int:
    return mailbox.session.scalar(select(func.count()).select_from(model)) or 0


def _crash(raw: bytes, *, max_attachment_bytes: int) -> ParsedMail:
    raise UnicodeDecodeError("utf-8", raw[:4], 0, 1, "the parser's bug")


def test_the_same_bytes_twice_are_one_message_handled_once(mailbox: Mailbox) -> None:
    sent = report(subject="Défiguration du site")
    first = mailbox.receive(sent)
    again = mailbox.receive(sent)
    assert first.new and not again.new
    assert (again.mail_id, again.status, again.incident_reference) == (
        first.mail_id, MailStatus.INCIDENT, first.incident_reference,
    )  # fmt: skip
    assert _count(mailbox, InboundMail) == 1 and _count(mailbox, Incident) == 1
    assert _count(mailbox, OutboxMessage) == 1


def test_a_message_that_crashes_the_parser_is_kept_and_reprocessed_after_the_fix(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = report(subject="Compte compromis")
    with monkeypatch.context() as broken:
        broken.setattr(processing, "parse", _crash)
        failed = mailbox.receive(sent)
        assert failed.status is MailStatus.FAILED and failed.error is not None
        assert "UnicodeDecodeError" in failed.error and "the parser's bug" in failed.error
        row = mailbox.row(failed)
        assert row.attempts == 1 and row.processed_at is not None
        assert read_raw(mailbox.settings.mail.mail_dir, row.sha256) == sent
        assert not mailbox.receive(sent).new  # delivered again: left for reprocess
        assert mailbox.row(failed).attempts == 1
        [still] = reprocess(mailbox.uow, None, settings=mailbox.settings)
        assert still.status is MailStatus.FAILED and mailbox.row(failed).attempts == 2
    [fixed] = reprocess(mailbox.uow, [failed.mail_id], settings=mailbox.settings)
    assert fixed.status is MailStatus.INCIDENT and fixed.incident_reference
    row = mailbox.row(failed)
    assert row.error is None and row.attempts == 3
    actions = mailbox.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "inbound_mail", AuditEntry.object_id == str(row.id))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["mail.receive", "mail.reprocess", "mail.reprocess", "mail.incident"]
    assert reprocess(mailbox.uow, [failed.mail_id], settings=mailbox.settings) == []  # handled
    assert _count(mailbox, Incident) == 1


def test_a_failure_half_way_leaves_nothing_half_written(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = report(subject="Fuite", files=[("a.pdf", PDF, "application/pdf")])

    def disk_full(*args: object, **kwargs: object) -> object:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as broken:
        broken.setattr(attachments, "store_stream", disk_full)
        failed = mailbox.receive(sent)
    assert failed.status is MailStatus.FAILED and "No space left" in (failed.error or "")
    assert _count(mailbox, Incident) == 0 and _count(mailbox, OutboxMessage) == 0
    submits = select(func.count()).where(AuditEntry.action == "incident.submit")
    assert mailbox.session.scalar(submits) == 0
    [done] = reprocess(mailbox.uow, None, settings=mailbox.settings)
    assert done.status is MailStatus.INCIDENT and _count(mailbox, OutboxMessage) == 1


def test_an_interrupted_run_is_finished_by_the_next_delivery(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = report(subject="Poste infecté")

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process stopped between storing and processing

    with monkeypatch.context() as broken, pytest.raises(KeyboardInterrupt):
        broken.setattr(processing, "parse", killed)
        mailbox.receive(sent)
    [row] = mailbox.session.scalars(select(InboundMail)).all()
    assert row.status is MailStatus.RECEIVED
    again = mailbox.receive(sent)
    assert not again.new and again.status is MailStatus.INCIDENT


def test_reprocess_refuses_unknown_ids_and_reports_a_lost_file(mailbox: Mailbox) -> None:
    with pytest.raises(NotFound, match="no message 999"):
        reprocess(mailbox.uow, [999], settings=mailbox.settings)
    held = mailbox.receive(report("inconnu@gmail.example"))
    assert reprocess(mailbox.uow, [held.mail_id], settings=mailbox.settings) == []
    row = mailbox.row(held)
    row.status = MailStatus.FAILED
    mailbox.session.flush()
    path = mailbox.settings.mail.mail_dir / row.sha256[:2] / row.sha256
    path.unlink()
    [lost] = reprocess(mailbox.uow, None, settings=mailbox.settings)
    assert lost.status is MailStatus.FAILED and "no stored message" in (lost.error or "")


def test_empty_input_is_not_a_message(mailbox: Mailbox) -> None:
    with pytest.raises(ValidationFailed):
        mailbox.receive(b"")
    assert _count(mailbox, InboundMail) == 0


def test_the_same_message_delivered_twice_at_once_is_one_incident(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    clock = SystemClock()
    with factory() as session:
        world = World(session, clock)
        world.interieur.contact_emails = ["soc@interieur.gov.ma"]
        session.commit()
    settings = mail_settings(tmp_path)
    sent = report(subject="Compromission de messagerie")
    start = threading.Barrier(2)
    results: list[Received] = []

    def deliver(source: MailSource) -> None:
        with unit_of_work(factory, clock=clock) as uow:
            start.wait()
            results.append(receive(uow, sent, source=source, settings=settings))

    threads = [threading.Thread(target=deliver, args=(s,)) for s in MailSource]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2 and {r.mail_id for r in results} == {results[0].mail_id}
    assert {r.status for r in results} == {MailStatus.INCIDENT}
    assert sorted(r.new for r in results) == [False, True]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
