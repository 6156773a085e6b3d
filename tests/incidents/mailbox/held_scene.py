"""Held messages for the queue's tests: real RFC 5322 bytes stored under their SHA-256 in the
mail directory, with the row processing would have left (held with a reason, or failed)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.audit import AuditEntry
from core.clock import Clock
from core.errors import Conflict
from core.identity.authz import Actor
from core.uow import UnitOfWork
from incidents.mailbox import held, store
from incidents.mailbox.models import HoldReason, InboundMail, MailSource, MailStatus
from incidents.settings import IntakeSettings, MailSettings
from tests.kit.threads import in_parallel

PASS = {"authserv_id": "mx.cert.gov.ma", "spf": "pass", "dkim": "pass", "dmarc": "pass"}
DMARC_FAIL = {"authserv_id": "mx.cert.gov.ma", "spf": "fail", "dkim": "none", "dmarc": "fail"}


def audited(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def decide_at_once(
    factory: sessionmaker[Session],
    clock: Clock,
    actors: list[Actor],
    mail_id: int,
    decide: Callable[[Session, Actor, InboundMail], str],
) -> list[str]:
    """Each actor, in its own thread and unit of work, takes the message under the write lock
    and ``decide``s on it; what each got (``decide``'s answer, or ``"conflict"``)."""

    def one(index: int) -> str:
        uow = UnitOfWork(factory(), clock)
        try:
            mail = held.get_mail(uow.write(), actors[index], mail_id)
            outcome = decide(uow.session, actors[index], mail)
            uow.commit()
            return outcome
        except Conflict:
            uow.rollback()
            return "conflict"
        finally:
            uow.close()

    return in_parallel(len(actors), one)


def mail_settings(upload_dir: Path) -> IntakeSettings:
    """The settings of an app whose ``CERT_UPLOAD_DIR`` is ``upload_dir``."""
    return IntakeSettings(upload_dir=upload_dir, mail=MailSettings(mail_dir=upload_dir / "mail"))


def raw_message(
    *,
    subject: str = "Tentative d'hameçonnage",
    body: str = "Bonjour,\nnous avons reçu un courriel suspect de http://evil.example/login.\n",
    sender: str = "Nadia Alaoui <nadia@unknown.example>",
    to: str = "cert@example.test",
    files: tuple[tuple[str, bytes, str], ...] = (),
    message_id: str | None = None,
    when: dt.datetime | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(when or dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC))
    message["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@unknown.example>"
    message.set_content(body)
    for name, content, kind in files:
        main, sub = kind.split("/")
        message.add_attachment(content, maintype=main, subtype=sub, filename=name)
    return bytes(message)


def held_mail(
    session: Session,
    clock: Clock,
    settings: IntakeSettings,
    raw: bytes | None = None,
    *,
    status: MailStatus = MailStatus.HELD,
    reason: HoldReason | None = HoldReason.UNKNOWN_SENDER,
    detail: str | None = None,
    authentication: dict[str, Any] | None = None,
    **fields: Any,
) -> InboundMail:
    """A stored message and its row (the headers of interest read from ``raw``)."""
    raw = raw if raw is not None else raw_message()
    stored = store.store_raw(raw, settings.mail.mail_dir)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    name, address = parseaddr(str(parsed["From"] or ""))
    values: dict[str, Any] = {
        "sha256": stored.sha256,
        "size": len(raw),
        "source": MailSource.PIPE,
        "received_at": clock.now(),
        "message_id": str(parsed["Message-ID"] or "") or None,
        "from_address": address.lower() or None,
        "from_name": name or None,
        "subject": str(parsed["Subject"] or ""),
        "authentication": authentication,
        "status": status,
        "hold_reason": reason if status is MailStatus.HELD else None,
        "hold_detail": detail,
        "attempts": 1,
        "processed_at": clock.now(),
    }
    values.update(fields)
    mail = InboundMail(**values)
    session.add(mail)
    session.flush()
    return mail
