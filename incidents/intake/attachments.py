"""Incident attachments: streamed to disk under their SHA-256, content sniffed, indicators mined.

Flask-free core; the web form and ``POST /api/v1/incidents/<reference>/attachments`` both call
:func:`add_attachment`, and downloads read through :func:`open_attachment`.

* Storage: ``<upload_dir>/<sha[:2]>/<sha>`` (content-addressed, so identical files are stored
  once), written to a temporary file in ``upload_dir`` and renamed atomically; files 0o640,
  directories 0o750, never executable. Nothing under ``upload_dir`` is ever served inline: the
  adapters force a download (``Content-Disposition: attachment``, ``nosniff``).
* Type: sniffed from the bytes (:func:`sniff`); the client's Content-Type is never used. HTML,
  SVG and executables are flagged on the timeline.
* A rolled-back transaction may leave a stored file without an ``Attachment`` row; it is harmless
  (same bytes, same name) and is reused by the next upload of that content. The reporter's answer
  removes its own after a failure (:func:`discard_unreferenced`).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.errors import DomainError, NotFound, ValidationFailed
from core.identity.authz import Actor
from incidents.access import can_see, require_work
from incidents.actions import IncidentAction
from incidents.intake.service import add_event, add_observables
from incidents.intake.sniffing import Sniffed, sniff
from incidents.models import Attachment, Incident
from incidents.observables.extraction import extract

CHUNK_BYTES = 64 * 1024
HEAD_BYTES = 8 * 1024  # what sniffing looks at
TEXT_SCAN_BYTES = 2 * 1024 * 1024  # how much of a text attachment is mined for observables
MAX_FILENAME_CHARS = 200
FILE_MODE = 0o640
DIR_MODE = 0o750
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class TooLarge(DomainError):
    """The upload exceeds the configured size limit."""

    code = "too_large"
    status = 413


# --------------------------------------------------------------------------- file names


_UNSAFE_CHARS = re.compile(r'[<>:"|?*]')


def safe_filename(raw: str, *, default: str = "piece-jointe") -> str:
    """A display name safe for ``Content-Disposition``: the last path component, without
    control, format (bidi overrides) or reserved characters, at most :data:`MAX_FILENAME_CHARS`
    characters with the extension kept; letters of every script stay (``تقرير.pdf``)."""
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = _UNSAFE_CHARS.sub("_", " ".join(name.split()))
    name = name.strip(" .")
    if not name:
        return default
    if len(name) <= MAX_FILENAME_CHARS:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and 0 < len(extension) <= 16:
        keep = MAX_FILENAME_CHARS - len(extension) - 1
        return f"{stem[:keep].rstrip(' .')}.{extension}"
    return name[:MAX_FILENAME_CHARS].rstrip(" .")


# --------------------------------------------------------------------------- storage


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    head: bytes
    path: Path


def stored_path(upload_dir: Path, sha256: str) -> Path:
    if not _SHA256_RE.match(sha256):
        raise ValueError(f"not a SHA-256: {sha256!r}")
    return upload_dir / sha256[:2] / sha256


def store_stream(stream: BinaryIO, upload_dir: Path, max_bytes: int) -> StoredFile:
    """Copy ``stream`` under its SHA-256; ``TooLarge`` / empty file leave nothing behind."""
    upload_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=upload_dir, prefix=".upload-", suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            sha256, size, head = _copy(stream, out, max_bytes)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise ValidationFailed("empty file", fields={"file": "the file is empty"})
        final = stored_path(upload_dir, sha256)
        final.parent.mkdir(mode=DIR_MODE, exist_ok=True)
        if final.exists():
            temp.unlink()  # same content already stored
        else:
            temp.chmod(FILE_MODE)
            os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return StoredFile(sha256, size, head, final)


def _copy(stream: BinaryIO, out: BinaryIO, max_bytes: int) -> tuple[str, int, bytes]:
    """Copy while hashing and counting: (SHA-256 hex, size, first bytes)."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    while chunk := stream.read(min(CHUNK_BYTES, max_bytes + 1 - size)):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(
                f"file larger than the {_human(max_bytes)} limit",
                fields={"file": f"at most {_human(max_bytes)}"},
            )
        digest.update(chunk)
        out.write(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
    return digest.hexdigest(), size, head


def _human(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    return f"{size} bytes"


def open_attachment(upload_dir: Path, attachment: Attachment) -> BinaryIO:
    """The stored bytes of ``attachment`` for a (forced) download; ``NotFound`` when missing."""
    try:
        return stored_path(upload_dir, attachment.sha256).open("rb")
    except (ValueError, FileNotFoundError):
        raise NotFound(f"attachment {attachment.id} is not available") from None


def discard_unreferenced(session: Session, upload_dir: Path, sha256s: list[str]) -> list[str]:
    """After a rollback: remove the stored files among ``sha256s`` that no ``Attachment`` row
    refers to (a file another incident also holds stays); the SHA-256 of those removed."""
    wanted = sorted(set(sha256s))
    if not wanted:
        return []
    kept = set(session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(wanted))))
    removed = []
    for sha256 in wanted:
        if sha256 not in kept:
            stored_path(upload_dir, sha256).unlink(missing_ok=True)
            removed.append(sha256)
    return removed


# --------------------------------------------------------------------------- use case


def add_attachment(
    session: Session,
    actor: Actor,
    incident: Incident,
    *,
    filename: str,
    stream: BinaryIO,
    clock: Clock,
    upload_dir: Path,
    max_bytes: int,
) -> Attachment:
    """Store a file sent with ``incident``, record it, and mine text files for observables."""
    if actor.is_cert_staff:  # a reporter sends files on their own incidents
        require_work(actor, incident, "attaching files")
    elif not can_see(actor, incident):
        raise NotFound(f"no incident {incident.reference}")
    name = safe_filename(filename)
    stored = store_stream(stream, upload_dir, max_bytes)
    sniffed = sniff(stored.head)
    now = clock.now()
    attachment = Attachment(
        filename=name,
        content_type=sniffed.content_type,
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by_id=actor.user_id,
        created_at=now,
    )
    incident.attachments.append(attachment)
    incident.updated_at = now
    session.flush()
    summary: dict[str, object] = {"filename": name, "sha256": stored.sha256, "size": stored.size}
    event = {**summary, "content_type": sniffed.content_type}
    if sniffed.flag:
        event["flag"] = sniffed.flag
    add_event(session, incident, actor, "attachment", clock=clock, data=event)
    audit.record(
        session,
        actor,
        IncidentAction.ATTACHMENT_ADD,
        "incident",
        incident.reference,
        clock=clock,
        after={**event, "attachment_id": attachment.id},
    )
    if sniffed.text_like:
        found = extract(_read_text(stored.path, sniffed.encoding or "utf-8"))
        add_observables(session, incident, [(o, f"attachment:{name}") for o in found], clock=clock)
    return attachment


def _read_text(path: Path, encoding: str) -> str:
    with path.open("rb") as handle:
        data = handle.read(TEXT_SCAN_BYTES)
    return data.decode(encoding, errors="replace").lstrip("\ufeff")


__all__ = [
    "Sniffed",
    "StoredFile",
    "TooLarge",
    "add_attachment",
    "discard_unreferenced",
    "open_attachment",
    "safe_filename",
    "sniff",
    "store_stream",
    "stored_path",
]
