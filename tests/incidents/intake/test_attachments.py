"""Incident attachments: content-addressed storage, size limit, sniffing, file names, observables,
timeline and audit (services on both backends; sniffing and names are pure)."""

from __future__ import annotations

import gzip
import hashlib
import io
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.errors import NotFound, ValidationFailed
from core.identity.models import User
from incidents.intake.attachments import (
    MAX_FILENAME_CHARS,
    TooLarge,
    add_attachment,
    open_attachment,
    safe_filename,
    sniff,
    stored_path,
)
from incidents.intake.schemas import IncidentSubmission
from incidents.intake.service import submit_incident
from incidents.models import Attachment, Incident, IncidentEvent
from incidents.settings import IntakeSettings
from tests.kit.factories import actor_of, make_user

SETTINGS = IntakeSettings(base_url="https://cert.example.ma", mail_domain="cert.example.ma")
LIMIT = 64 * 1024


# --------------------------------------------------------------------------- samples


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _zip(*members: tuple[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


def _odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text"
        )  # stored first and uncompressed, as the ODF specification requires
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def _pe() -> bytes:
    stub = bytearray(b"MZ" + b"\x90\x00" * 31)  # 64-byte DOS header
    stub[0x3C:0x40] = (0x80).to_bytes(4, "little")
    return bytes(stub) + b"\x00" * (0x80 - len(stub)) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 64


OOXML = "[Content_Types].xml", '<?xml version="1.0"?><Types/>'
SAMPLES: dict[str, tuple[bytes, str, str | None]] = {
    "pdf": (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n", "application/pdf", None),
    "png": (_png(), "image/png", None),
    "jpeg": (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
        "image/jpeg",
        None,
    ),
    "gif": (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04",
        "image/gif",
        None,
    ),
    "zip": (_zip(("notes.txt", "bonjour")), "application/zip", None),
    "docx": (
        _zip(OOXML, ("_rels/.rels", "<Relationships/>"), ("word/document.xml", "<w:document/>")),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        None,
    ),
    "xlsx": (
        _zip(OOXML, ("xl/workbook.xml", "<workbook/>")),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        None,
    ),
    "odt": (_odt(), "application/vnd.oasis.opendocument.text", None),
    "ole2": (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff",
        "application/x-ole-storage",
        None,
    ),
    "gzip": (gzip.compress(b"journal de connexions"), "application/gzip", None),
    "7z": (b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24, "application/x-7z-compressed", None),
    "rar4": (b"Rar!\x1a\x07\x00\xcf\x90\x73\x00\x00\x0d", "application/vnd.rar", None),
    "rar5": (b"Rar!\x1a\x07\x01\x00\x33\x92\xb5\xe5\x0a\x01", "application/vnd.rar", None),
    "elf": (
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00",
        "application/x-executable",
        "executable",
    ),
    "pe": (_pe(), "application/vnd.microsoft.portable-executable", "executable"),
    "eml": (
        b"Return-Path: <rh@interieur-gov.example>\r\nReceived: from mx.example\r\n"
        b"\tby mail.example; Mon, 12 Jan 2026 10:00:00 +0100\r\n"
        b"From: RH <rh@interieur-gov.example>\r\nSubject: Prime exceptionnelle\r\n\r\nCliquez ici",
        "message/rfc822",
        None,
    ),
    "text-utf8": (
        "Connexions répétées depuis 185.220.101[.]4 — compte « admin » verrouillé.\n".encode(),
        "text/plain",
        None,
    ),
    "text-arabic": ("تم رصد محاولة تصيد احتيالي\n".encode(), "text/plain", None),
    "text-cp1252": ("Journal d’accès – été 2025 : 3 échecs\n".encode("cp1252"), "text/plain", None),
    "text-utf16": ("Rapport\r\n".encode("utf-16"), "text/plain", None),
    "csv": (
        b"date;ip;action\n2026-01-12;185.220.101.4;login\n2026-01-12;10.0.0.1;logout\n",
        "text/csv",
        None,
    ),
    "json": (b'  {"alert": "scan", "src": "185.220.101.4"}', "application/json", None),
    "json-array": (b'[{"ip": "185.220.101.4"}]', "application/json", None),
    "xml": (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<alerts><alert/></alerts>',
        "application/xml",
        None,
    ),
    "html": (
        b"<!DOCTYPE html>\n<html><body><form>mot de passe</form>",
        "text/html",
        "active-content",
    ),
    "html-fragment": (b"<script>alert(1)</script>", "text/html", "active-content"),
    "svg": (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "image/svg+xml",
        "active-content",
    ),
    "binary": (bytes(range(256)) * 4, "application/octet-stream", None),
    "mz-text": (b"MZ est le debut de ce texte\n", "text/plain", None),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_content_type_is_sniffed_from_the_bytes(name: str) -> None:
    data, content_type, flag = SAMPLES[name]
    sniffed = sniff(data[:8192])
    assert (sniffed.content_type, sniffed.flag) == (content_type, flag)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\evil.exe", "evil.exe"),
        ("/var/log/auth.log", "auth.log"),
        ("تقرير الحادث.pdf", "تقرير الحادث.pdf"),
        ("Rapport d'incident – Ministère.docx", "Rapport d'incident – Ministère.docx"),
        ("fac\x00ture\x1b[31m.pdf", "facture[31m.pdf"),
        ("ligne1\nligne2\r.txt", "ligne1ligne2.txt"),
        ("photo\u202egnp.exe", "photognp.exe"),  # right-to-left override spoofing
        ('a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("  ..  ", "piece-jointe"),
        ("..", "piece-jointe"),
        ("", "piece-jointe"),
        (".htaccess", "htaccess"),
        ("e\u0301te\u0301.txt", "été.txt"),  # NFC
    ],
)
def test_file_names_are_sanitised(raw: str, expected: str) -> None:
    assert safe_filename(raw) == expected


def test_long_file_names_keep_their_extension() -> None:
    name = safe_filename("r" * 500 + ".xlsx")
    assert len(name) == MAX_FILENAME_CHARS and name.endswith("r.xlsx")
    assert len(safe_filename("x" * 500)) == MAX_FILENAME_CHARS


# --------------------------------------------------------------------------- service


@pytest.fixture
def incident(db_session: Session, clock: FrozenClock, reporter: User) -> Incident:
    data = IncidentSubmission(
        title="Rançongiciel sur un serveur de fichiers",
        description="Fichiers chiffrés ; note de rançon, contact via 185.220.101[.]4.",
        category="malicious-code",
        type="infected-system",
        tlp="TLP:AMBER+STRICT",
    )
    return submit_incident(db_session, actor_of(reporter), data, clock=clock, settings=SETTINGS)


def _upload(
    session: Session,
    user: User,
    incident: Incident,
    upload_dir: Path,
    data: bytes,
    filename: str = "note.txt",
    *,
    clock: FrozenClock,
    max_bytes: int = LIMIT,
) -> Attachment:
    return add_attachment(
        session,
        actor_of(user),
        incident,
        filename=filename,
        stream=io.BytesIO(data),
        clock=clock,
        upload_dir=upload_dir,
        max_bytes=max_bytes,
    )


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


def test_upload_is_stored_once_under_its_sha256(
    db_session: Session, clock: FrozenClock, reporter: User, incident: Incident, tmp_path: Path
) -> None:
    data = SAMPLES["pdf"][0]
    first = _upload(db_session, reporter, incident, tmp_path, data, "a.pdf", clock=clock)
    second = _upload(db_session, reporter, incident, tmp_path, data, "b.pdf", clock=clock)
    sha = hashlib.sha256(data).hexdigest()
    assert (first.sha256, second.sha256) == (sha, sha)
    assert (first.size, first.content_type, first.filename) == (
        len(data),
        "application/pdf",
        "a.pdf",
    )
    assert _files(tmp_path) == [tmp_path / sha[:2] / sha]
    assert (tmp_path / sha[:2] / sha).read_bytes() == data
    rows = db_session.scalars(select(Attachment).where(Attachment.incident_id == incident.id))
    assert [a.filename for a in rows] == ["a.pdf", "b.pdf"]
    with open_attachment(tmp_path, first) as handle:
        assert handle.read() == data


def test_stored_files_are_never_executable(
    db_session: Session, clock: FrozenClock, reporter: User, incident: Incident, tmp_path: Path
) -> None:
    attachment = _upload(
        db_session, reporter, incident, tmp_path, SAMPLES["elf"][0], "outil", clock=clock
    )
    path = stored_path(tmp_path, attachment.sha256)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o027 == 0  # 0o750 at most
    assert attachment.content_type == "application/x-executable"
    event = db_session.scalars(
        select(IncidentEvent).where(IncidentEvent.kind == "attachment")
    ).one()
    assert event.data["flag"] == "executable"


def test_client_name_and_type_are_not_trusted(
    db_session: Session, clock: FrozenClock, reporter: User, incident: Incident, tmp_path: Path
) -> None:
    html = SAMPLES["html"][0]
    attachment = _upload(db_session, reporter, incident, tmp_path, html, "facture.pdf", clock=clock)
    assert (attachment.filename, attachment.content_type) == ("facture.pdf", "text/html")
    assert not any(o.sources[-1].startswith("attachment:") for o in incident.observables)


def test_file_over_the_limit_is_413_and_leaves_nothing(
    db_session: Session, clock: FrozenClock, reporter: User, incident: Incident, tmp_path: Path
) -> None:
    with pytest.raises(TooLarge) as err:
        _upload(
            db_session,
            reporter,
            incident,
            tmp_path,
            b"x" * 1025,
            clock=clock,
            max_bytes=1024,
        )
    assert (err.value.status, err.value.code, list(err.value.fields)) == (
        413,
        "too_large",
        ["file"],
    )
    assert _files(tmp_path) == []
    exact = _upload(
        db_session, reporter, incident, tmp_path, b"x" * 1024, clock=clock, max_bytes=1024
    )
    assert exact.size == 1024


def test_empty_file_is_refused(
    db_session: Session, clock: FrozenClock, reporter: User, incident: Incident, tmp_path: Path
) -> None:
    with pytest.raises(ValidationFailed) as err:
        _upload(db_session, reporter, incident, tmp_path, b"", clock=clock)
    assert list(err.value.fields) == ["file"]
    assert _files(tmp_path) == []
    assert incident.attachments == []


def test_text_attachment_yields_observables(
    db_session: Session, clock: FrozenClock, reporter: User, incident: Incident, tmp_path: Path
) -> None:
    log = (
        "Jan 12 10:00:01 srv sshd[811]: Failed password for root from 185.220.101.4 port 4022\n"
        "Jan 12 10:00:03 srv curl: GET hxxps://paiement-cnss[.]ma/maj.php (CVE-2024-3400)\n"
        "Jan 12 10:00:04 srv av: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    )
    _upload(db_session, reporter, incident, tmp_path, log.encode(), "../auth.log", clock=clock)
    sources = {(o.type, o.value): o.sources for o in incident.observables}
    assert sources[("ipv4", "185.220.101.4")] == ["description", "attachment:auth.log"]
    assert sources[("url", "https://paiement-cnss.ma/maj.php")] == ["attachment:auth.log"]
    assert sources[("domain", "paiement-cnss.ma")] == ["attachment:auth.log"]
    assert ("cve", "CVE-2024-3400") in sources
    sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert sources[("sha256", sha)] == ["attachment:auth.log"]
    assert all(o.tlp == "TLP:AMBER+STRICT" for o in incident.observables)


def test_attachment_is_on_the_timeline_and_audited(
    db_session: Session, clock: FrozenClock, reporter: User, incident: Incident, tmp_path: Path
) -> None:
    clock.advance(minutes=5)
    attachment = _upload(
        db_session,
        reporter,
        incident,
        tmp_path,
        SAMPLES["png"][0],
        "capture.png",
        clock=clock,
    )
    event = db_session.scalars(
        select(IncidentEvent).where(
            IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "attachment"
        )
    ).one()
    summary = {"filename": "capture.png", "sha256": attachment.sha256, "size": attachment.size}
    assert event.data == {**summary, "content_type": "image/png"}
    assert (event.actor_id, event.at, event.public) == (reporter.id, clock.now(), False)
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "incident.attachment_add")
    ).one()
    assert (entry.object_type, entry.object_id) == ("incident", incident.reference)
    assert entry.after is not None and entry.after["sha256"] == attachment.sha256
    assert incident.updated_at == clock.now()


def test_another_organisation_gets_not_found(
    db_session: Session, clock: FrozenClock, incident: Incident, tmp_path: Path
) -> None:
    other = make_user(db_session, clock, email="rssi@justice.gov.ma")
    with pytest.raises(NotFound):
        _upload(db_session, other, incident, tmp_path, b"bonjour", clock=clock)
    assert _files(tmp_path) == []
    analyst = make_user(db_session, clock, role="analyst")
    assert _upload(db_session, analyst, incident, tmp_path, b"bonjour", clock=clock).id


def test_missing_stored_file_is_not_found(tmp_path: Path) -> None:
    attachment = Attachment(id=7, sha256="0" * 64)
    with pytest.raises(NotFound):
        open_attachment(tmp_path, attachment)
    with pytest.raises(NotFound):
        open_attachment(tmp_path, Attachment(id=8, sha256="../../etc/passwd"))
