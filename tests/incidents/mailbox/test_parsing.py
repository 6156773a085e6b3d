"""parse(): the sample messages read as an analyst expects, hostile ones cheaply and safely."""

from __future__ import annotations

import base64
import datetime as dt
import email
import time
from email import policy

import pytest

from incidents.mailbox.message import Automatic
from incidents.mailbox.parsing import parse
from tests.incidents.mailbox.corpus import parsed_mail, raw_mail

PDF_START = b"%PDF-1.4"


def test_french_outlook_report_headers_body_and_attachments() -> None:
    mail = parsed_mail("report_fr_outlook.eml")
    assert mail.subject == "Signalement d'un hameçonnage ciblé des agents du ministère"
    assert mail.from_address == "k.benali@interieur.gov.ma"  # lower-cased
    assert mail.from_name == "Karim Benali (Ministère de l'Intérieur)"
    assert mail.to == ("signalement@cert.gov.ma", "rssi@interieur.gov.ma")
    assert mail.message_id == "<PR3P192MB0876A1B2C3D4E5F6@PR3P192MB0876.EURP192.PROD.OUTLOOK.COM>"
    assert mail.sent_at == dt.datetime(2026, 12, 3, 9, 14, 51, tzinfo=dt.UTC)
    assert not mail.html_only
    assert mail.text.startswith("Bonjour,\n\nNous avons reçu ce matin plusieurs courriels")
    assert "https://secure-login.interieur-gov.example/owa/auth.php" in mail.text
    assert "<p" not in mail.text  # the text/plain alternative, not the HTML one
    names = [(a.filename, a.declared_type) for a in mail.attachments]
    assert names == [
        ("Rapport_incident_03-12-2026.pdf", "application/pdf"),
        ("adresses_ip.csv", "text/csv"),
    ]
    assert mail.attachments[0].content.startswith(PDF_START)
    assert b"203.0.113.45,2026-12-03" in mail.attachments[1].content
    assert mail.automatic is None
    assert mail.authentication_results[0].startswith("mx.cert.gov.ma; spf=pass")
    assert mail.defects == ()


def test_arabic_report_subject_in_two_charsets_and_rfc2231_name() -> None:
    mail = parsed_mail("report_ar_rfc2231.eml")
    # UTF-8 then Windows-1256 encoded words
    assert mail.subject == "بلاغ عن حادث: تصيد احتيالي يستهدف الوزارة"
    assert mail.from_name == "مديرية نظم المعلومات"
    assert "الرابط المستعمل: http://rh-portail.example.net/login" in mail.text
    assert "198.51.100.23" in mail.text
    [pdf] = mail.attachments
    assert pdf.filename == "تقرير_الحادث.pdf"
    assert pdf.content.startswith(PDF_START)


def test_html_only_report_becomes_safe_text() -> None:
    mail = parsed_mail("report_html_only.eml")
    assert mail.html_only
    assert mail.subject == "Site frauduleux € remboursé"  # ISO-8859-15
    assert "Un faux portail de la Direction Générale des Impôts circule :" in mail.text
    assert "- URL : le faux portail <https://dgi-remboursement.example.com/fr/>" in mail.text
    assert "- Hébergeur : 203.0.113.80" in mail.text
    assert "[Logo du ministère]" in mail.text
    for absent in ("document.cookie", "javascript", "tracker.example", "<script", "font-family"):
        assert absent not in mail.text
    assert mail.attachments == ()  # the inline images have no file name


def test_forwarded_phishing_is_kept_whole_and_its_text_mined() -> None:
    mail = parsed_mail("forwarded_phishing_rfc822.eml")
    assert mail.text.startswith("Bonjour,\nJe vous transfère un courriel suspect")
    [forwarded] = mail.attachments
    assert forwarded.forwarded and forwarded.declared_type == "message/rfc822"
    assert forwarded.filename == "Votre boîte aux lettres est pleine.eml"
    inner = email.message_from_bytes(forwarded.content, policy=policy.default)
    assert inner["Message-ID"] == "<8c1f0d2e.phish@mailer.example.org>"
    assert forwarded.text is not None
    assert "185.220.101.34" in forwarded.text  # its Received header
    assert "From: Support Messagerie <support@webmail-interieur.example.org>" in forwarded.text
    assert "Subject: Votre boîte aux lettres est pleine" in forwarded.text
    # the base64 HTML body, as text, with the phishing link written out
    assert "<https://webmail-interieur.example.org/verify?u=agent>" in forwarded.text
    assert "Cher utilisateur" in forwarded.text


def test_reply_threads_by_headers_and_keeps_its_attachment() -> None:
    mail = parsed_mail("reply_fr_quoted.eml")
    assert mail.subject == "RE\xa0: Re: [MACERT-2026-000042] Signalement d'un hameçonnage"
    assert mail.in_reply_to == ("<vigie.4f2a9c@cert.gov.ma>",)
    assert mail.references == (
        "<PR3P192MB0876A1B2C3D4E5F6@PR3P192MB0876.EURP192.PROD.OUTLOOK.COM>",
        "<vigie.4f2a9c@cert.gov.ma>",
    )
    assert "-----Message d'origine-----" in mail.text  # parse keeps it; threads.new_text cuts
    [log] = mail.attachments
    assert (log.filename, log.declared_type) == ("pare-feu.log", "text/plain")
    assert log.content.startswith(b"2026-12-02T10:11:12Z DENY TCP 198.51.100.77")


@pytest.mark.parametrize(
    ("name", "kind", "detail"),
    [
        ("auto_reply_fr.eml", Automatic.AUTO_REPLY, "Auto-Submitted: auto-replied"),
        ("auto_reply_exchange.eml", Automatic.AUTO_REPLY, "Subject: Automatic reply"),
        (
            "bounce_dsn.eml",
            Automatic.BOUNCE,
            "Content-Type: multipart/report; report-type=delivery-status",
        ),
        ("mailing_list.eml", Automatic.BULK, "Precedence: list"),
    ],
)
def test_robots_are_recognised(name: str, kind: Automatic, detail: str) -> None:
    mail = parsed_mail(name)
    assert (mail.automatic, mail.automatic_detail) == (kind, detail)


def test_bounce_keeps_the_returned_message_and_the_null_sender() -> None:
    mail = parsed_mail("bounce_dsn.eml")
    assert mail.return_path == ""
    assert mail.from_address == "mailer-daemon@mx.cert.gov.ma"
    assert "User unknown in virtual mailbox table" in mail.text
    [returned] = mail.attachments
    assert returned.forwarded
    assert returned.text is not None and "Message-ID: <vigie.99cc03@cert.gov.ma>" in returned.text


def test_authentication_results_in_order_topmost_first() -> None:
    mail = parsed_mail("dmarc_fail_spoofed.eml")
    assert [v.split(";")[1].strip() for v in mail.authentication_results] == [
        "spf=fail smtp.mailfrom=interieur.gov.ma",
        "spf=pass smtp.mailfrom=interieur.gov.ma",
    ]
    assert mail.return_path == "k.benali@interieur.gov.ma"


def test_broken_message_is_read_with_defects() -> None:
    mail = parsed_mail("broken_mime.eml")
    assert mail.from_address == "broken@douane.gov.ma"
    assert mail.from_name == "Bro ken"  # NUL in a header: a space
    assert mail.sent_at is None  # "not a date at all"
    assert mail.message_id == "<broken-id-without-brackets@douane.gov.ma>"
    assert "Texte avec un octet NUL  ici, un  et un caract\ufffdre latin." in mail.text
    assert "\x00" not in mail.text and "\x07" not in mail.text and "\x01" not in mail.subject
    assert mail.subject.startswith("Rapport ") and mail.subject.endswith("suite")
    assert "StartBoundaryNotFoundDefect" in mail.defects
    assert "multipart without its parts: read as text" in mail.defects


def test_attachment_beyond_the_limit_keeps_its_name_only() -> None:
    mail = parsed_mail("report_fr_outlook.eml", max_attachment_bytes=130)
    pdf, csv = mail.attachments
    assert (pdf.filename, pdf.too_large, pdf.content) == (
        "Rapport_incident_03-12-2026.pdf",
        False,
        pdf.content,
    )
    assert (csv.filename, csv.too_large, csv.content) == ("adresses_ip.csv", True, b"")
    forwarded = parsed_mail("forwarded_phishing_rfc822.eml", max_attachment_bytes=100).attachments[
        0
    ]
    assert forwarded.too_large and forwarded.content == b""
    assert forwarded.text is not None and "185.220.101.34" in forwarded.text  # still mined


def _mail(headers: str, body: str = "Bonjour") -> bytes:
    return (headers.strip() + "\r\n\r\n" + body).encode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("From: <>", None),
        ("From: Karim Benali", None),
        ("From: undisclosed-recipients:;", None),
        ("From: a@interieur.gov.ma, b@evil.example", None),  # two senders: trust neither
        ('From: "k.benali@interieur.gov.ma" <x@EVIL.example>', "x@evil.example"),
        ("From: K.Benali@Interieur.GOV.MA", "k.benali@interieur.gov.ma"),
    ],
)
def test_from_address_only_when_usable(header: str, expected: str | None) -> None:
    assert parse(_mail(header + "\r\nSubject: s"), max_attachment_bytes=10).from_address == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("In-Reply-To: <a@b.ma>", ("<a@b.ma>",)),
        ("In-Reply-To: a@b.ma", ("<a@b.ma>",)),
        ("In-Reply-To: <a@b.ma> (comment) <c@d.ma>", ("<a@b.ma>", "<c@d.ma>")),
        ("In-Reply-To: garbage without id", ()),
        ("In-Reply-To: <a@b.ma>\r\nIn-Reply-To: <a@b.ma>", ("<a@b.ma>",)),
    ],
)
def test_message_ids_tolerate_sloppy_headers(header: str, expected: tuple[str, ...]) -> None:
    mail = parse(_mail("From: a@b.ma\r\n" + header), max_attachment_bytes=10)
    assert mail.in_reply_to == expected


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Thu, 3 Dec 2026 10:15:02 +0100", dt.datetime(2026, 12, 3, 9, 15, 2, tzinfo=dt.UTC)),
        ("Thu, 3 Dec 2026 10:15:02 -0000", dt.datetime(2026, 12, 3, 10, 15, 2, tzinfo=dt.UTC)),
        ("hier soir", None),
        ("Thu, 99 Dec 2026 99:99:99 +9999", None),
    ],
)
def test_dates_are_aware_or_none(date: str, expected: dt.datetime | None) -> None:
    mail = parse(_mail(f"From: a@b.ma\r\nDate: {date}"), max_attachment_bytes=10)
    assert mail.sent_at == expected
    assert mail.sent_at is None or mail.sent_at.tzinfo is not None


@pytest.mark.parametrize(
    "raw", [b"", b"   \r\n", bytes(range(256)) * 40, b"\x89PNG\r\n\x1a\n" + b"\x00" * 500]
)
def test_bytes_that_are_no_message_raise_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError, match="message"):
        parse(raw, max_attachment_bytes=10)


def test_multipart_alternative_without_plain_uses_html_and_mixed_joins_inline_texts() -> None:
    raw = _mail(
        "From: a@b.ma\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=m",
        "--m\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n"
        "--a\r\nContent-Type: text/html\r\n\r\n<p>Premier <b>bloc</b></p>\r\n--a--\r\n"
        "--m\r\nContent-Type: image/png\r\nContent-ID: <img1>\r\n\r\nPNG\r\n"
        "--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSecond bloc\r\n--m--\r\n",
    )
    mail = parse(raw, max_attachment_bytes=100)
    assert mail.text == "Second bloc"  # a text/plain part wins over HTML ones
    assert mail.attachments == ()  # the inline image without a name is no attachment


def test_unknown_charset_is_read_with_replacement() -> None:
    raw = _mail(
        "From: a@b.ma\r\nContent-Type: text/plain; charset=x-martian",
        "caf\xe9".encode("latin-1").decode("latin-1"),
    )
    mail = parse(raw.replace(b"caf\xc3\xa9", b"caf\xe9"), max_attachment_bytes=10)
    assert mail.text == "caf\ufffd"
    assert "unknown charset 'x-martian': read as UTF-8" in mail.defects


def _nested(depth: int, leaf: bytes = b"feuille\r\n") -> bytes:
    body = leaf
    for level in range(depth, 0, -1):
        body = (
            f"Content-Type: multipart/mixed; boundary=b{level}\r\n\r\n--b{level}\r\n".encode()
            + body
            + f"\r\n--b{level}--\r\n".encode()
        )
    return b"From: a@b.ma\r\nSubject: x\r\nMIME-Version: 1.0\r\n" + body


HOSTILE = {
    "nested 5000 deep": _nested(5000),
    "nested 60 deep, 1M lines": _nested(60, b"\r\n" + b"A\r\n" * 1_000_000),
    "10 MB single line": b"From: a@b.ma\r\n\r\n" + b"A" * 10_000_000,
    "10 MB of '<a' as HTML": b"From: a@b.ma\r\nContent-Type: text/html\r\n\r\n" + b"<a" * 5_000_000,
    "1 MB subject": b"From: a@b.ma\r\nSubject: " + b"x" * 1_000_000 + b"\r\n\r\nhi",
    "1 MB From": b"From: " + b'"a" ' * 250_000 + b"<a@b.ma>\r\n\r\nhi",
    "1 MB Content-Type": b"From: a@b.ma\r\nContent-Type: multipart/mixed; boundary=x; "
    + b"a=b; " * 200_000
    + b"\r\n\r\n--x\r\n\r\nhi\r\n--x--",
    "50,000 parts": b"From: a@b.ma\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
    + b"--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n" * 50_000
    + b"--x--\r\n",
    "3000 forwarded levels": b"From: a@b.ma\r\n"
    + b"Content-Type: message/rfc822\r\n\r\n" * 3000
    + b"x",
    "100,000 headers": b"From: a@b.ma\r\n" + b"X-A: b\r\n" * 100_000 + b"\r\nhi",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_messages_are_read_quickly_with_defects(name: str) -> None:
    started = time.perf_counter()
    mail = parse(HOSTILE[name], max_attachment_bytes=1_000_000)
    elapsed = time.perf_counter() - started
    # under a second on an idle machine; the bound only catches the pathologies the limits
    # removed (10 to 427 s before them), not a slow machine
    assert elapsed < 8.0, f"{name}: {elapsed:.2f}s"
    assert mail.from_address == (None if name == "1 MB From" else "a@b.ma")
    assert len(mail.text) <= 200_000


def test_limits_are_noted_as_defects() -> None:
    deep = parse(HOSTILE["nested 5000 deep"], max_attachment_bytes=10)
    assert "more than 64 multipart or message parts: the rest ignored" in deep.defects
    assert "parts nested deeper than 20: ignored" in deep.defects
    long = parse(HOSTILE["10 MB single line"], max_attachment_bytes=10)
    assert long.defects == ("text cut at 200000 characters",)
    many = parse(HOSTILE["50,000 parts"], max_attachment_bytes=10)
    assert "more than 200 parts: the rest ignored" in many.defects
    subject = parse(HOSTILE["1 MB subject"], max_attachment_bytes=10)
    assert subject.defects == ("header Subject cut",) and len(subject.subject) == 1000


def test_corpus_round_trip_raw_mail_helper() -> None:
    assert raw_mail("mailing_list.eml").startswith(b"Received: from lists.first.example")


def test_an_eml_file_attached_as_octet_stream_is_read_as_a_forwarded_message() -> None:
    inner = raw_mail("forwarded_phishing_rfc822.eml").split(b"Content-Type: message/rfc822")[1]
    eml = inner.split(b"\r\n\r\n", 1)[1].split(b"\r\n--fwd-boundary-42--")[0]
    raw = (
        b"From: agent@interieur.gov.ma\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=o\r\n\r\n"
        b"--o\r\nContent-Type: text/plain\r\n\r\nCi-joint.\r\n"
        b"--o\r\nContent-Type: application/octet-stream; name=suspect.EML\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(eml).replace(b"\n", b"\r\n")
        + b"--o\r\nContent-Type: application/octet-stream; name=junk.eml\r\n\r\n"
        + b"\x89PNG\r\n--o--\r\n"
    )
    suspect, junk = parse(raw, max_attachment_bytes=100_000).attachments
    assert (suspect.filename, suspect.forwarded, suspect.content) == ("suspect.EML", True, eml)
    assert suspect.text is not None and "185.220.101.34" in suspect.text
    assert "<https://webmail-interieur.example.org/verify?u=agent>" in suspect.text
    assert (junk.filename, junk.forwarded, junk.content) == ("junk.eml", False, b"\x89PNG")


def test_file_names_lose_bidirectional_overrides_and_path_separators() -> None:
    raw = (
        b"From: a@b.ma\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n"
        b"--o\r\nContent-Type: text/plain\r\n\r\nVoir.\r\n"
        b"--o\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''facture%E2%80%AEfdp.exe\r\n\r\nMZ\r\n"
        b'--o\r\nContent-Type: application/pdf; name="../../etc/passwd"\r\n\r\n%PDF\r\n--o--\r\n'
    )
    names = [a.filename for a in parse(raw, max_attachment_bytes=100).attachments]
    assert names == ["facture fdp.exe", ".. .. etc passwd"]


def test_defects_of_nested_parts_are_noted() -> None:
    raw = (
        b"From: a@b.ma\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n"
        b"--o\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"Qm9uam91cg\r\n"
        b"--o--\r\n"
    )
    mail = parse(raw, max_attachment_bytes=100)
    assert mail.text == "Bonjour"
    assert "InvalidBase64PaddingDefect" in mail.defects


def test_raw_8bit_headers_and_a_windows_1256_body() -> None:
    raw = (
        "From: كريم <k@interieur.gov.ma>\r\nSubject: Hameçonnage ciblé\r\n"
        "Content-Type: text/plain; charset=windows-1256\r\n\r\n"
    ).encode() + "تصيد احتيالي".encode("cp1256")
    mail = parse(raw, max_attachment_bytes=10)
    assert (mail.from_name, mail.subject, mail.text) == (
        "كريم",
        "Hameçonnage ciblé",
        "تصيد احتيالي",
    )
    latin = parse(b"From: k@x.ma\r\nSubject: Hame\xe7onnage\r\n\r\nx", max_attachment_bytes=10)
    assert latin.subject == "Hameçonnage"


def test_an_empty_text_part_next_to_html_gives_way_to_the_html() -> None:
    raw = (
        b"From: a@b.ma\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n"
        b"--m\r\nContent-Type: text/plain\r\n\r\n \r\n"
        b"--m\r\nContent-Type: text/html\r\n\r\n<p>Alerte <a href='https://x.example/'>ici</a></p>\r\n"
        b"--m--\r\n"
    )
    mail = parse(raw, max_attachment_bytes=10)
    assert (mail.text, mail.html_only) == ("Alerte ici <https://x.example/>", True)
