"""Messages as the CERT's mailbox receives them, built with the standard library
(:class:`email.message.EmailMessage`): a report, a reply to a message Vigie sent, an
auto-reply, a bounce, with attachments and forwarded messages; and the receiving MTA's
``Authentication-Results``. Each builder returns the RFC 5322 bytes (``as_bytes``)."""

from __future__ import annotations

import datetime as dt
import email
import itertools
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import format_datetime, formataddr

CERT_ADDRESS = "cert@cert.example"  # the mailbox (and CERT_MAIL_FROM: Vigie's own address)
MX = "mx.cert.example"  # the receiving MTA's authserv-id (CERT_MAIL_TRUSTED_AUTHSERV_ID)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
REPLY_TEXT = (
    "Voici le journal demandé.\n\n"
    "Le 4 déc. 2026 à 10:00, CERT <cert@cert.example> a écrit :\n> Bonjour,\n> le journal ?\n"
)
_serial = itertools.count(1)

File = tuple[str, bytes, str]  # (name, content, declared type "maintype/subtype")


def authentication_results(
    *, dmarc: str = "pass", dkim: str = "pass", spf: str = "pass", authserv_id: str = MX,
    domain: str = "interieur.gov.ma",
) -> str:  # fmt: skip
    """An ``Authentication-Results`` header value of ``authserv_id`` (RFC 8601)."""
    return (
        f"{authserv_id}; spf={spf} smtp.mailfrom={domain}; dkim={dkim} header.d={domain}; "
        f"dmarc={dmarc} header.from={domain}"
    )


def message(
    *,
    sender: str,
    name: str | None = None,
    subject: str = "Signalement",
    text: str | None = "Bonjour,\n\nUn poste est infecté.\n",
    html: str | None = None,
    to: str = CERT_ADDRESS,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Iterable[str] = (),
    files: Iterable[File] = (),
    forwarded: Iterable[bytes] = (),
    headers: Mapping[str, str] | None = None,
    auth: str | None = None,
    date: dt.datetime | None = None,
) -> EmailMessage:
    """A message (see the module docstring); ``auth`` is an ``Authentication-Results`` value."""
    msg = EmailMessage()
    if auth is not None:
        msg["Authentication-Results"] = auth
    msg["From"] = formataddr((name, sender)) if name else sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC))
    msg["Message-ID"] = message_id or f"<m{next(_serial)}.{sender.replace('@', '.')}@mua.test>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    refs = list(references) or ([in_reply_to] if in_reply_to else [])
    if refs:
        msg["References"] = " ".join(refs)
    for key, value in (headers or {}).items():
        msg[key] = value
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    for filename, content, declared in files:
        maintype, subtype = declared.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    for inner in forwarded:  # message/rfc822, as a mail program forwards "as attachment"
        msg.add_attachment(email.message_from_bytes(inner, policy=default))
    return msg


def raw(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=SMTP)


def report(sender: str = "soc@interieur.gov.ma", **fields: object) -> bytes:
    """A new report (see :func:`message` for ``fields``)."""
    return raw(message(sender=sender, **fields))  # type: ignore[arg-type]


def reply(
    answered: str,
    sender: str = "soc@interieur.gov.ma",
    *,
    subject: str = "RE: Accusé de réception",
    text: str = REPLY_TEXT,
    **fields: object,
) -> bytes:  # fmt: skip
    """A reply to the message of Message-ID ``answered`` (``In-Reply-To`` and ``References``)."""
    return raw(
        message(sender=sender, subject=subject, text=text, in_reply_to=answered, **fields)  # type: ignore[arg-type]
    )


def auto_reply(sender: str = "soc@interieur.gov.ma", **fields: object) -> bytes:
    """An out-of-office answer (RFC 3834 ``Auto-Submitted: auto-replied``)."""
    headers = {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"}
    return raw(
        message(
            sender=sender,
            subject="Réponse automatique : absent du bureau",
            text="Je suis absent jusqu'au 10 décembre.",
            headers=headers,
            **fields,  # type: ignore[arg-type]
        )
    )


def bounce(original_to: str = "soc@interieur.gov.ma", *, answered: str | None = None) -> bytes:
    """A delivery-status notification (``multipart/report``) from MAILER-DAEMON, null sender."""
    serial = next(_serial)
    replying = f"In-Reply-To: {answered}\r\n" if answered else ""
    return (
        "Return-Path: <>\r\n"
        "From: Mail Delivery System <MAILER-DAEMON@mx.interieur.gov.ma>\r\n"
        f"To: {CERT_ADDRESS}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Date: Fri, 04 Dec 2026 09:31:00 +0000\r\n"
        f"Message-ID: <bounce{serial}@mx.interieur.gov.ma>\r\n"
        f"{replying}"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type="delivery-status"; boundary="b1"\r\n'
        "\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Your message to <{original_to}> could not be delivered.\r\n"
        "\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.interieur.gov.ma\r\n\r\n"
        f"Final-Recipient: rfc822; {original_to}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "\r\n--b1--\r\n"
    ).encode()


__all__ = [
    "CERT_ADDRESS",
    "MX",
    "PDF",
    "authentication_results",
    "auto_reply",
    "bounce",
    "message",
    "raw",
    "reply",
    "report",
]
