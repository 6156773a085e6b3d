"""Was a received message written by a robot? (RFC 3834 and what mail programs really send.)

Vigie never answers a robot: an acknowledgement to an out-of-office reply or a bounce would start
a mail loop (Vigie's own mail carries ``Auto-Submitted: auto-generated``, so two Vigies stop at
once) or send backscatter. The checks run from the most to the least certain: a delivery report,
then the headers a robot sets, then list headers, then the subjects out-of-office replies use
when their program sets no header (Exchange sets only ``X-Auto-Response-Suppress``).
"""

from __future__ import annotations

import re
from email.message import EmailMessage, Message

from incidents.mailbox.headers import clean_header, decoded, mailboxes, raw_values, return_path
from incidents.mailbox.message import Automatic
from incidents.mailbox.threads import without_reply_prefixes

_REPORT_PARTS = frozenset(
    {
        "message/delivery-status",
        "message/disposition-notification",
        "message/global-delivery-status",
    }
)
_ROBOT_SENDERS = ("mailer-daemon", "postmaster")
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Reply-From", "X-Autoresponder")
_MAX_PARTS_LOOKED_AT = 50
# out-of-office subjects (French, English, Arabic), after any "Re:"-style prefixes
_OUT_OF_OFFICE = re.compile(
    r"^[\[(]?\s*(?:"
    r"r[ée]ponse\s+automatique|r[ée]pondeur(?:\s+automatique)?|message\s+d'absence"
    r"|absente?(?:\s*\(e\))?\s+du\s+bureau|absence(?=\s*(?:$|[:：\-–(\]]))"
    r"|out\s+of\s+(?:the\s+)?office|automatic\s+reply|auto[\s-]?reply|auto[\s-]?response"
    r"|away\s+from\s+(?:the\s+)?office|on\s+vacation"
    r"|(?:ال)?رد\s+(?:ال)?(?:تلقائي|آلي)|خارج\s+المكتب"
    r")",
    re.IGNORECASE,
)


def automatic(message: EmailMessage) -> tuple[Automatic, str] | None:
    """Which kind of robot wrote ``message`` and what said so (e.g. "Auto-Submitted:
    auto-replied"); None for a message a person wrote."""
    for check in (_bounce, _auto_reply_headers, _bulk, _out_of_office_subject):
        found = check(message)
        if found is not None:
            return found
    return None


def _bounce(message: Message) -> tuple[Automatic, str] | None:
    content_type = message.get_content_type()
    if content_type == "multipart/report":
        report = clean_header(str(message.get_param("report-type", "") or ""))[:60]
        return Automatic.BOUNCE, f"Content-Type: multipart/report; report-type={report}"
    for _name, address in mailboxes(message, "From"):
        local = address.partition("@")[0]
        if local in _ROBOT_SENDERS:
            return Automatic.BOUNCE, f"From: {address}"
    if return_path(raw_values(message, "Return-Path")) == "" and _has_report_part(message):
        return Automatic.BOUNCE, "Return-Path: <> with a delivery report"
    return None


def _has_report_part(message: Message) -> bool:
    for index, part in enumerate(message.walk()):
        if index >= _MAX_PARTS_LOOKED_AT:
            return False
        if part.get_content_type() in _REPORT_PARTS:
            return True
    return False


def _auto_reply_headers(message: Message) -> tuple[Automatic, str] | None:
    submitted = _token(decoded(message, "Auto-Submitted"))
    if submitted and submitted != "no":
        return Automatic.AUTO_REPLY, f"Auto-Submitted: {submitted}"
    for name in _AUTOREPLY_HEADERS:
        if raw_values(message, name):
            value = decoded(message, name)[:60]
            return Automatic.AUTO_REPLY, f"{name}: {value}".strip()
    for name in ("Precedence", "X-Precedence"):
        if _token(decoded(message, name)) in ("auto_reply", "auto-reply"):
            return Automatic.AUTO_REPLY, f"{name}: auto_reply"
    return None


def _bulk(message: Message) -> tuple[Automatic, str] | None:
    for name in ("Precedence", "X-Precedence"):
        precedence = _token(decoded(message, name))
        if precedence in ("bulk", "junk", "list"):
            return Automatic.BULK, f"{name}: {precedence}"
    for name in ("List-Id", "List-Unsubscribe"):
        if raw_values(message, name):
            return Automatic.BULK, f"{name}: {decoded(message, name)[:80]}".strip()
    return None


def _out_of_office_subject(message: Message) -> tuple[Automatic, str] | None:
    subject = without_reply_prefixes(decoded(message, "Subject"))
    match = _OUT_OF_OFFICE.match(subject)
    if match is None:
        return None
    return Automatic.AUTO_REPLY, f"Subject: {match.group().lstrip('[( ')}"


def _token(value: str) -> str:
    """The first word of a header value, lower-cased ("auto-replied; owner=…" → "auto-replied")."""
    return value.split(";", 1)[0].strip().lower()[:60]
