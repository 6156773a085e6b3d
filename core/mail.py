"""Outgoing mail (kernel): the outbox queue.

:func:`enqueue_mail` adds an :class:`~core.outbox.OutboxMessage` to the caller's transaction, so a
rollback drops the mail with the business change that caused it (:func:`insert_mail`: the same as
a single INSERT; :func:`insert_template_mail`: a template and its JSON context, rendered in the
recipient's language when the message is first claimed — for hot paths). Sending is
:mod:`core.mail_sender`.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import insert
from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import ValidationFailed
from core.outbox import SEALED_CONTEXT, OutboxMessage, OutboxStatus, header_problem
from core.sealing import Sealer

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,4})?$")


# ------------------------------------------------------------------ queueing
def domain_of(mail_from: str) -> str:
    """The domain of a ``From`` value such as ``Vigie <noreply@cert.example>`` (for Message-IDs)."""
    _, address = parseaddr(mail_from)
    _, at, domain = address.rpartition("@")
    return domain if at and domain else "localhost"


def enqueue_mail(
    session: Session,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    language: str = "fr",
    tlp: str | None = None,
    related: tuple[str, object] | None = None,
    in_reply_to: str | None = None,
    clock: Clock,
    mail_domain: str,
) -> OutboxMessage:
    """Queue one message in the caller's transaction (flushes, never commits)."""
    values = _outbox_values(to, subject, text, html, language, tlp, related, clock, mail_domain)
    values["in_reply_to"] = _answered(in_reply_to)
    row = OutboxMessage(**values)
    session.add(row)
    session.flush()
    return row


_INSERT_MESSAGE = insert(OutboxMessage.metadata.tables["outbox_messages"]).returning(
    OutboxMessage.id
)


def insert_mail(
    session: Session,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    language: str = "fr",
    tlp: str | None = None,
    related: tuple[str, object] | None = None,
    in_reply_to: str | None = None,
    clock: Clock,
    mail_domain: str,
) -> int:
    """:func:`enqueue_mail` as one INSERT on the session's connection, for hot paths that need
    no :class:`OutboxMessage` object (same checks, same row); returns the row's id."""
    values = _outbox_values(to, subject, text, html, language, tlp, related, clock, mail_domain)
    values["in_reply_to"] = _answered(in_reply_to)
    row_id: int = session.connection().execute(_INSERT_MESSAGE, values).scalar_one()
    return row_id


def insert_template_mail(
    session: Session,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    language: str = "fr",
    tlp: str | None = None,
    related: tuple[str, object] | None = None,
    in_reply_to: str | None = None,
    clock: Clock,
    mail_domain: str,
    sealer: Sealer | None = None,
    headers: Mapping[str, str] | None = None,
) -> int:
    """Queue a message as ``template`` (``"package:name"``, see :func:`core.i18n.render_mail`)
    and its ``context`` (JSON values), rendered in ``language`` when a sender first claims it;
    one INSERT, returns the row's id. The address and labels are checked now, as for
    :func:`insert_mail`. With a ``sealer`` the context (and later the rendered bodies) is stored
    sealed: for a message that carries a secret (see :mod:`core.outbox`). ``headers``: extra
    header fields, names from :data:`core.outbox.EXTRA_HEADERS` only, single-line values."""
    package, _, name = template.partition(":")
    problems = {} if package and name and len(template) <= 200 else {"template": "package:name"}
    if problems:
        raise ValidationFailed("invalid e-mail template", fields=problems)
    values = _outbox_values(to, "-", "-", None, language, tlp, related, clock, mail_domain)
    if sealer is not None:
        context = {SEALED_CONTEXT: sealer.seal(json.dumps(context))}
    values.update(subject=None, text_body=None, template=template, template_context=context)
    values["in_reply_to"] = _answered(in_reply_to)
    values["headers"] = extra_headers(headers)
    row_id: int = session.connection().execute(_INSERT_MESSAGE, values).scalar_one()
    return row_id


def extra_headers(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """``headers`` checked (:func:`core.outbox.header_problem`): ``ValidationFailed`` naming
    each bad one, else a copy (None when empty)."""
    if not headers:
        return None
    problems = [p for name, value in headers.items() if (p := header_problem(name, value))]
    if problems:
        raise ValidationFailed("invalid e-mail header", fields={"headers": "; ".join(problems)})
    return dict(headers)


def answerable(message_id: str | None) -> str | None:
    """``message_id`` (stripped) when it may be answered (``<id@host>``, nothing that could
    inject a header), else None: what a received message claims is checked before it is used."""
    if message_id is None:
        return None
    value = message_id.strip()
    if not (value.startswith("<") and value.endswith(">")) or len(value) > 255:
        return None
    if _has_line_break(value) or any(c in value[1:-1] for c in "<> "):
        return None
    return value


def _answered(message_id: str | None) -> str | None:
    """A Message-ID to answer (``<id@host>``), refused when it could inject a header."""
    if message_id is None:
        return None
    value = answerable(message_id)
    if value is None:
        raise ValidationFailed("invalid Message-ID", fields={"in_reply_to": "<id@host>"})
    return value


def _outbox_values(
    to: str,
    subject: str,
    text: str,
    html: str | None,
    language: str,
    tlp: str | None,
    related: tuple[str, object] | None,
    clock: Clock,
    mail_domain: str,
) -> dict[str, object]:
    """The columns of a new pending message, once its fields are checked."""
    address = _check_message(to, subject, text, language, tlp, related)
    now = clock.now()
    return {
        # 128 random bits from the OS: make_msgid draws from the `random` module, whose state
        # a library may seed (Hypothesis does), and two equal ids break the unique constraint
        "message_id": f"<{secrets.token_hex(16)}@{mail_domain}>",
        "to_addr": address,
        "subject": subject,
        "text_body": text,
        "html_body": html,
        "language": language,
        "tlp": tlp,
        "related_type": related[0] if related else None,
        "related_id": str(related[1]) if related else None,
        "in_reply_to": None,
        "headers": None,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "last_error": None,
        "created_at": now,
        "sent_at": None,
        "template": None,
        "template_context": None,
    }


def _check_message(
    to: str,
    subject: str,
    text: str,
    language: str,
    tlp: str | None,
    related: tuple[str, object] | None,
) -> str:
    """Validate the fields of a message; return the normalised address or raise ValidationFailed."""
    problems: dict[str, str] = {}
    address, problem = _normalised_address(to.strip())
    if problem is not None:
        problems["to"] = problem
    if not subject.strip() or len(subject) > 500 or _has_line_break(subject):
        problems["subject"] = "one line of 1 to 500 characters"
    if not text.strip():
        problems["text"] = "must not be empty"
    if not _LANGUAGE.match(language):
        problems["language"] = "a language tag such as fr, ar or en-GB"
    if tlp is not None and (not tlp.strip() or len(tlp) > 20 or _has_line_break(tlp)):
        problems["tlp"] = "a label of 1 to 20 characters, e.g. TLP:AMBER"
    if related is not None and not (0 < len(related[0]) <= 64 and 0 < len(str(related[1])) <= 64):
        problems["related"] = "(type, id), each of 1 to 64 characters"
    if problems:
        raise ValidationFailed("invalid e-mail message", fields=problems)
    return address


@functools.lru_cache(maxsize=1024)
def _normalised_address(to: str) -> tuple[str, str | None]:
    """(normalised address, None) or ("", why it is invalid); no DNS, so safe to cache."""
    try:
        return validate_email(to, check_deliverability=False).normalized, None
    except EmailNotValidError as exc:
        return "", str(exc)


def _has_line_break(value: str) -> bool:
    return any(char in value for char in "\r\n")


def insert_template_mails(
    session: Session,
    messages: list[dict[str, Any]],
    *,
    template: str,
    tlp: str | None = None,
    related: tuple[str, object] | None = None,
    clock: Clock,
    mail_domain: str,
) -> list[int]:
    """:func:`insert_template_mail` for many recipients in one multi-row INSERT (fan-outs):
    each of ``messages`` is ``{"to", "language", "context"}``; every address and label is
    checked first (``ValidationFailed`` naming the first bad one: nothing is queued), and the
    optional ``"headers"`` of each (as for :func:`insert_template_mail`). Returns the rows' ids
    in the order of ``messages``."""
    package, _, name = template.partition(":")
    if not (package and name and len(template) <= 200):
        raise ValidationFailed("invalid e-mail template", fields={"template": "package:name"})
    rows: list[dict[str, object]] = []
    for message in messages:
        values = _outbox_values(message["to"], "-", "-", None, message.get("language", "fr"),
                                tlp, related, clock, mail_domain)  # fmt: skip
        values.update(subject=None, text_body=None, template=template,
                      template_context=message["context"],
                      headers=extra_headers(message.get("headers")))  # fmt: skip
        rows.append(values)
    if not rows:
        return []
    table = OutboxMessage.metadata.tables["outbox_messages"]
    # batched multi-row INSERTs; the ids are matched back by Message-ID (unique), since asking
    # the database to keep the parameters' order makes some drivers insert row by row
    statement = insert(table).returning(table.c.message_id, table.c.id)
    ids: dict[str, int] = {r[0]: r[1] for r in session.connection().execute(statement, rows)}
    return [ids[str(row["message_id"])] for row in rows]
