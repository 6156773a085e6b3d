"""Parsing a received message (pure: bytes in, :class:`.message.ParsedMail` out).

The standard library's :mod:`email` package with ``policy.default``, bounded everywhere (header
lengths, parts, nesting, text size) so that a hostile message costs at most a fraction of a
second and never an exception: what is wrong with a message is kept in ``defects`` for the
analyst, and only bytes that are no message at all raise :class:`ValueError`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from email.message import EmailMessage, Message

from incidents.mailbox.automatic import automatic
from incidents.mailbox.headers import (
    clean_header,
    decoded,
    mailboxes,
    message_ids,
    raw_values,
    return_path,
    sent_at,
)
from incidents.mailbox.htmltext import html_to_text
from incidents.mailbox.message import Automatic, ParsedMail
from incidents.mailbox.parts import MAX_HTML_CHARS, MAX_TEXT_CHARS, Walk, walk
from incidents.mailbox.reading import read_message


def parse(raw: bytes, *, max_attachment_bytes: int) -> ParsedMail:
    """Read ``raw`` (RFC 5322 bytes): headers, text, attachments; never raises on bad input
    except :class:`ValueError` for bytes that are not a message at all."""
    state = Walk(max_attachment_bytes)
    message = read_message(raw, state.note)
    cut: list[str] = []
    walk(message, state)
    text, html_only = _body(state)
    robot = _robot(message, state)
    from_name, from_address = _sender(message, state, cut)
    parsed = ParsedMail(
        message_id=next(iter(message_ids(raw_values(message, "Message-ID"))), None),
        in_reply_to=message_ids(raw_values(message, "In-Reply-To")),
        references=message_ids(raw_values(message, "References")),
        from_address=from_address,
        from_name=from_name,
        reply_to=next((a for _n, a in mailboxes(message, "Reply-To", cut)), None),
        to=_recipients(message, cut),
        subject=decoded(message, "Subject", cut)[:1000],
        sent_at=sent_at(raw_values(message, "Date")),
        text=text,
        html_only=html_only,
        attachments=tuple(state.attachments),
        automatic=robot[0] if robot else None,
        automatic_detail=robot[1] if robot else None,
        authentication_results=tuple(
            clean_header(v)[:4000] for v in raw_values(message, "Authentication-Results")
        ),
        return_path=return_path(raw_values(message, "Return-Path")),
        defects=(),
    )
    return _with_defects(parsed, message, state, cut)


def _body(state: Walk) -> tuple[str, bool]:
    plain = "\n\n".join(t.strip() for t in state.plain if t.strip())
    if plain or not state.html:  # an empty text/plain next to HTML says nothing
        text, html_only = plain, False
    else:
        html = "\n".join(state.html)
        if len(html) > MAX_HTML_CHARS:
            state.note(f"HTML cut at {MAX_HTML_CHARS} characters")
        text, html_only = html_to_text(html[:MAX_HTML_CHARS]), True
    if len(text) > MAX_TEXT_CHARS:
        state.note(f"text cut at {MAX_TEXT_CHARS} characters")
        text = text[:MAX_TEXT_CHARS]
    return text, html_only


def _sender(message: Message, state: Walk, cut: list[str]) -> tuple[str | None, str | None]:
    """From's display name and address; no address when From names none or several (a second
    address is how a forged From hides behind a real one)."""
    found = mailboxes(message, "From", cut)
    addresses = {address for _name, address in found}
    if len(addresses) > 1:
        state.note("several From addresses")
        return found[0][0] or None, None
    if not found:
        if raw_values(message, "From"):
            state.note("From without a usable address")
        name = decoded(message, "From")
        return (name[:200] or None), None
    return found[0][0][:200] or None, found[0][1]


def _recipients(message: Message, cut: list[str]) -> tuple[str, ...]:
    addresses: list[str] = []
    for name in ("To", "Cc"):
        for _display, address in mailboxes(message, name, cut):
            if address not in addresses:
                addresses.append(address)
    return tuple(addresses[:200])


def _robot(message: EmailMessage, state: Walk) -> tuple[Automatic, str] | None:
    try:
        return automatic(message)
    except Exception as exc:  # noqa: BLE001 - headers no check could read: treat as a robot
        state.note(f"automatic checks failed ({type(exc).__name__})")
        return Automatic.AUTO_REPLY, "unreadable headers"


def _with_defects(parsed: ParsedMail, message: Message, state: Walk, cut: list[str]) -> ParsedMail:
    """The parser's own defects summarised ("InvalidBase64PaddingDefect ×2"), then ours."""
    counts = Counter(type(defect).__name__ for defect in message.defects)
    found = [name if n == 1 else f"{name} ×{n}" for name, n in counts.items()]
    found += [f"header {name} cut" for name in dict.fromkeys(cut)]
    found += [d for d in state.defects if d not in counts]
    return replace(parsed, defects=tuple(found[:50]))
