"""The committed sample messages of ``tests/data/mail`` (see its README)."""

from __future__ import annotations

from pathlib import Path

from incidents.mailbox.message import ParsedMail
from incidents.mailbox.parsing import parse

MAIL_DIR = Path(__file__).resolve().parents[2] / "data" / "mail"


def raw_mail(name: str) -> bytes:
    return (MAIL_DIR / name).read_bytes()


def parsed_mail(name: str, max_attachment_bytes: int = 5_000_000) -> ParsedMail:
    return parse(raw_mail(name), max_attachment_bytes=max_attachment_bytes)
