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

import codecs
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


# --------------------------------------------------------------------------- sniffing


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    encoding: str | None = None  # text only: how to decode it
    flag: str | None = None  # "active-content" or "executable": shown to analysts

    @property
    def text_like(self) -> bool:
        return self.content_type in TEXT_TYPES


TEXT_TYPES = frozenset(
    {"text/plain", "text/csv", "application/json", "application/xml", "message/rfc822"}
)

# (magic prefix, content type): checked in order, the first match wins.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),  # empty archive
    (b"PK\x07\x08", "application/zip"),  # spanned archive
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),  # doc, xls, ppt, msg
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07\x00", "application/vnd.rar"),  # RAR 4
    (b"Rar!\x1a\x07\x01\x00", "application/vnd.rar"),  # RAR 5
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"BZh", "application/x-bzip2"),
    (b"\x7fELF", "application/x-executable"),
)
EXECUTABLE_TYPES = frozenset(
    {"application/x-executable", "application/vnd.microsoft.portable-executable"}
)
# OOXML and OpenDocument are ZIP archives recognised by their first member names.
_ZIP_FLAVOURS: tuple[tuple[bytes, str], ...] = (
    (b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)
_ODF = re.compile(
    rb"^PK\x03\x04.{26}mimetype(application/vnd\.oasis\.opendocument\.[a-z.-]+)", re.S
)
_EML_HEADERS = frozenset(
    {"from", "to", "subject", "date", "received", "return-path", "message-id", "mime-version"}
)
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):[ \t]")
_JSON_START = re.compile(r'^\s*(\{\s*["}]|\[\s*[\[{"\]\d-]|\[\s*(true|false|null)\b)')
_HTML_MARKERS = ("<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<meta ")
_BAD_CONTROLS = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B} | {0x7F}


def sniff(head: bytes) -> Sniffed:
    """The content type of a file from its first bytes (:data:`HEAD_BYTES` are enough)."""
    for magic, content_type in MAGIC:
        if head.startswith(magic):
            if content_type == "application/zip":
                return Sniffed(_zip_flavour(head))
            flag = "executable" if content_type in EXECUTABLE_TYPES else None
            return Sniffed(content_type, flag=flag)
    if _is_pe(head):
        return Sniffed("application/vnd.microsoft.portable-executable", flag="executable")
    encoding = _text_encoding(head)
    if encoding is None:
        return Sniffed("application/octet-stream")
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    content_type = _text_type(text)
    flag = "active-content" if content_type in {"text/html", "image/svg+xml"} else None
    return Sniffed(content_type, encoding=encoding, flag=flag)


def _zip_flavour(head: bytes) -> str:
    odf = _ODF.match(head)
    if odf:
        return odf.group(1).decode("ascii")
    if b"[Content_Types].xml" in head:
        for marker, content_type in _ZIP_FLAVOURS:
            if marker in head:
                return content_type
    return "application/zip"


def _is_pe(head: bytes) -> bool:
    """``MZ`` with a PE header where ``e_lfanew`` points, or an MZ stub that is not text."""
    if not head.startswith(b"MZ"):
        return False
    if len(head) >= 0x40:
        offset = int.from_bytes(head[0x3C:0x40], "little")
        if head[offset : offset + 4] == b"PE\0\0":
            return True
    return _text_encoding(head) is None


def _text_encoding(head: bytes) -> str | None:
    """``utf-8``, ``utf-16`` (with a BOM) or ``cp1252``/``latin-1`` when ``head`` is text."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\0" in head or any(byte in _BAD_CONTROLS for byte in head):
        return None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a cut-off last char
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:  # Windows exports: C1 bytes are curly quotes, dashes, € in cp1252
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _text_type(text: str) -> str:
    start = text.lstrip()[:1024].lower()
    if start.startswith("<?xml") or start.startswith("<svg"):
        if "<svg" in start:
            return "image/svg+xml"
        return "text/html" if "<html" in start or "<!doctype html" in start else "application/xml"
    if start.startswith("<") and any(marker in start for marker in _HTML_MARKERS):
        return "text/html"
    if _JSON_START.match(text):
        return "application/json"
    if _looks_like_email(text):
        return "message/rfc822"
    if _looks_like_csv(text):
        return "text/csv"
    return "text/plain"


def _looks_like_email(text: str) -> bool:
    names: set[str] = set()
    for line in text.splitlines()[:60]:
        if not line.strip():
            break
        match = _HEADER_LINE.match(line)
        if match:
            names.add(match.group(1).lower())
        elif not line[:1].isspace():  # neither a header nor a folded continuation
            return False
    return len(names & _EML_HEADERS) >= 2


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    complete = lines[:-1] if len(lines) > 2 else lines  # the last line may be cut off
    for separator in (",", ";", "\t"):
        counts = {line.count(separator) for line in complete}
        if len(counts) == 1 and counts.pop() >= 1:
            return True
    return False


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
