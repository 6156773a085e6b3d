"""Raw messages on disk, under their SHA-256 (``<mail_dir>/<sha[:2]>/<sha>``), like attachments.

Written to a temporary file and renamed atomically, files 0o640, never executable, never served
inline (staff download them as ``.eml``). The same bytes are stored once.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from core.errors import NotFound
from incidents.intake.attachments import StoredFile, store_stream, stored_path

if TYPE_CHECKING:
    from incidents.mailbox.models import InboundMail
    from incidents.settings import IntakeSettings

# a message is stored whatever its size up to this ceiling (processing holds one beyond
# CERT_MAIL_MAX_MB); past it, nothing sane is a report and the disk is protected
HARD_CEILING_BYTES = 512 * 1024 * 1024
# after a line's "Content-": the part header that makes a file
_FILE_HEADER = re.compile(rb"disposition:[ \t]*attachment", re.IGNORECASE)


def store_raw(stream: BinaryIO | bytes, mail_dir: Path) -> StoredFile:
    """Store a raw message (``TooLarge`` beyond :data:`HARD_CEILING_BYTES`; ``ValidationFailed``
    when empty)."""
    source = io.BytesIO(stream) if isinstance(stream, bytes) else stream
    return store_stream(source, mail_dir, HARD_CEILING_BYTES)


def read_raw(mail_dir: Path, sha256: str) -> bytes:
    """The stored bytes (``NotFound`` when the file is gone)."""
    try:
        return stored_path(mail_dir, sha256).read_bytes()
    except (ValueError, FileNotFoundError):
        raise NotFound(f"no stored message {sha256[:12]}") from None


def attachment_counts(mails: Iterable[InboundMail], settings: IntakeSettings) -> dict[int, int]:
    """How many files each message carries, for the queue's rows (the row has no count of its
    own, and parsing 50 messages per page costs ~15 ms per 400 KB each): the part headers that
    make a file (``Content-Disposition: attachment``) are counted in the stored bytes (~0.5 ms
    per 400 KB). An estimate — the message's page lists the
    files exactly; a message beyond ``CERT_MAIL_MAX_MB``, or whose file is gone, is left out."""
    counts: dict[int, int] = {}
    for mail in mails:
        if mail.size > settings.mail.max_bytes:
            continue
        try:
            raw = read_raw(settings.mail.mail_dir, mail.sha256)
        except NotFound:
            continue
        counts[mail.id] = _files_in(raw)
    return counts


def _files_in(raw: bytes) -> int:
    """Header lines ``Content-Disposition: attachment`` (a forwarded message's own files
    included): ``bytes.find`` jumps from one "ontent-" to the next (a regular expression
    scanning every line of the base64 bodies is 20 times slower)."""
    count, at = 0, raw.find(b"ontent-")
    while at != -1:
        if raw[at - 2 : at] in (b"\nC", b"\nc") and _FILE_HEADER.match(raw, at + 7):
            count += 1
        at = raw.find(b"ontent-", at + 7)
    return count


__all__ = ["HARD_CEILING_BYTES", "attachment_counts", "read_raw", "store_raw"]
