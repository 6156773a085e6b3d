"""Outgoing mail (kernel): an outbox row made into the message that leaves.

:func:`rendered` gives a row's content (stored, or its template rendered in its language; sealed
content opened); :func:`compose` builds the RFC 5322 message, identical on every attempt (same
Message-ID and Date), with the threading, TLP and allow-listed extra headers;
:class:`SharedRenderings` lets the messages of one claim share their rendering and body.
:mod:`core.mail_sender` claims, sends and records.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime

from core.errors import describe
from core.i18n import render_mail
from core.outbox import OutboxMessage, carries_secret, header_problem, sealed_context
from core.sealing import Sealer, is_sealed


def rendered(row: OutboxMessage, sealer: Sealer | None = None) -> tuple[str, str, str | None]:
    """(subject, text, html) of a message: its stored content, else its template rendered in
    its language (``ValueError`` when there is neither, the template cannot be rendered, or the
    content is sealed and ``sealer`` cannot open it)."""
    if row.subject is not None and row.text_body is not None:
        html = row.html_body
        if is_sealed(row.text_body):
            text = _opener(sealer).open(row.text_body)
            return row.subject, text, _opener(sealer).open(html) if html else None
        return row.subject, row.text_body, html
    if row.template is None:
        raise ValueError("message without content")
    sealed = sealed_context(row)
    context = json.loads(_opener(sealer).open(sealed)) if sealed else row.template_context
    package, _, name = row.template.partition(":")
    try:
        return render_mail(package, name, row.language, **(context or {}))
    except Exception as exc:  # a missing template or a bad context: the row cannot be sent
        raise ValueError(f"template {row.template} cannot be rendered: {describe(exc)}") from exc


def _opener(sealer: Sealer | None) -> Sealer:
    if sealer is None:
        raise ValueError("sealed content and no key to open it")
    return sealer


def build_message(row: OutboxMessage, mail_from: str, sealer: Sealer | None = None) -> EmailMessage:
    """The message for ``row``; identical on every attempt (same Message-ID and Date)."""
    return compose(row, rendered(row, sealer), mail_from)


Content = tuple[str, str, str | None]  # subject, text, html


@dataclass
class SharedRenderings:
    """What the messages of one claim share when they are alike (a publication queues the same
    template and context for every recipient of a language): each rendering and each body is
    built once per claim instead of once per message."""

    rendered: dict[tuple[str, str, str], Content] = field(default_factory=dict)
    bodies: dict[tuple[str, str | None], EmailMessage] = field(default_factory=dict)

    def render(self, row: OutboxMessage, sealer: Sealer | None) -> Content:
        if row.text_body is not None or row.template is None or sealed_context(row) is not None:
            return rendered(row, sealer)
        key = (row.template, row.language, json.dumps(row.template_context, sort_keys=True))
        found = self.rendered.get(key)
        if found is None:
            found = self.rendered[key] = rendered(row, sealer)
        return found


def _body(text: str, html: str | None, shared: SharedRenderings | None) -> EmailMessage:
    """A message with the body only: text, or text and HTML alternatives."""
    body = shared.bodies.get((text, html)) if shared is not None else None
    if body is None:
        body = EmailMessage()
        body.set_content(text)
        if html:
            body.add_alternative(html, subtype="html")
        if shared is not None:
            shared.bodies[(text, html)] = body
    # a copy sharing the (never modified) parts, with a header list of its own: building the
    # MIME parts costs more than everything else of a message
    message = copy.copy(body)
    vars(message)["_headers"] = list(vars(body)["_headers"])
    return message


def compose(
    row: OutboxMessage,
    content: Content,
    mail_from: str,
    shared: SharedRenderings | None = None,
) -> EmailMessage:
    subject, text, html = content
    message = _body(text, html, shared)
    message["Subject"] = subject
    message["From"] = mail_from
    message["To"] = row.to_addr
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = row.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    if row.in_reply_to:
        message["In-Reply-To"] = row.in_reply_to
        message["References"] = row.in_reply_to
    if row.tlp:
        message["X-TLP"] = row.tlp
    for name, value in sorted((row.headers or {}).items()):
        problem = header_problem(name, value)
        if problem is not None:  # checked when queued; a row altered since is not sent
            raise ValueError(f"extra header refused: {problem}")
        message[name] = value
    # after the body: making a message multipart moves Content-* headers into the first part
    message["Content-Language"] = row.language
    return message


def keep_rendered(
    row: OutboxMessage, content: tuple[str, str, str | None], sealer: Sealer | None
) -> None:
    """Store the content rendered from a template in the row, sealed when its context was."""
    if row.text_body is not None:
        return
    row.subject, text, html = content
    if sealed_context(row) is None:
        row.text_body, row.html_body = text, html
        return
    opener = _opener(sealer)
    row.text_body, row.html_body = opener.seal(text), opener.seal(html) if html else None
    row.template_context = None


def redact(row: OutboxMessage) -> None:
    """Drop the sealed content of a message that is sent or given up (the subject, recipient,
    status and attempts stay for the operator)."""
    if carries_secret(row):
        row.text_body = row.html_body = row.template_context = None
