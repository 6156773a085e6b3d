"""Raw messages on disk, under their SHA-256 (``<mail_dir>/<sha[:2]>/<sha>``), like attachments.

Written to a temporary file and renamed atomically, files 0o640, never executable, never served
inline (staff download them as ``.eml``). The same bytes are stored once.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

from core.errors import NotFound
from incidents.intake.attachments import StoredFile, store_stream, stored_path

# a message is stored whatever its size up to this ceiling (processing holds one beyond
# CERT_MAIL_MAX_MB); past it, nothing sane is a report and the disk is protected
HARD_CEILING_BYTES = 512 * 1024 * 1024


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


__all__ = ["HARD_CEILING_BYTES", "read_raw", "store_raw"]
