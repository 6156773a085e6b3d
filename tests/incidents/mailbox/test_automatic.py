"""automatic(): which robot wrote a message (RFC 3834 and practice), and what said so."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from incidents.mailbox.automatic import automatic
from incidents.mailbox.message import Automatic
from tests.incidents.mailbox.corpus import raw_mail


def _message(headers: str, body: str = "Bonjour") -> EmailMessage:
    raw = (headers.strip() + "\r\n\r\n" + body).encode()
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


PERSON = "From: Karim Benali <k.benali@interieur.gov.ma>\r\nSubject: Signalement\r\n"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("Auto-Submitted: auto-replied", (Automatic.AUTO_REPLY, "Auto-Submitted: auto-replied")),
        (  # Vigie's own mail: two Vigies never answer each other
            "Auto-Submitted: auto-generated",
            (Automatic.AUTO_REPLY, "Auto-Submitted: auto-generated"),
        ),
        (
            "Auto-Submitted: Auto-Replied; owner-email=x@y.ma",
            (Automatic.AUTO_REPLY, "Auto-Submitted: auto-replied"),
        ),
        ("X-Autoreply: yes", (Automatic.AUTO_REPLY, "X-Autoreply: yes")),
        ("X-Autorespond: 1", (Automatic.AUTO_REPLY, "X-Autorespond: 1")),
        ("X-Auto-Reply-From: k@x.ma", (Automatic.AUTO_REPLY, "X-Auto-Reply-From: k@x.ma")),
        ("Precedence: auto_reply", (Automatic.AUTO_REPLY, "Precedence: auto_reply")),
        ("Precedence: Bulk", (Automatic.BULK, "Precedence: bulk")),
        ("Precedence: junk", (Automatic.BULK, "Precedence: junk")),
        ("List-Id: <alerts.example.org>", (Automatic.BULK, "List-Id: <alerts.example.org>")),
        (
            "List-Unsubscribe: <https://x.example/u>",
            (Automatic.BULK, "List-Unsubscribe: <https://x.example/u>"),
        ),
    ],
)
def test_robot_headers(extra: str, expected: tuple[Automatic, str]) -> None:
    assert automatic(_message(PERSON + extra)) == expected


@pytest.mark.parametrize(
    "extra",
    ["Auto-Submitted: no", "Precedence: first-class", "X-Auto-Response-Suppress: All", ""],
)
def test_a_person_is_no_robot(extra: str) -> None:
    assert automatic(_message(PERSON + extra)) is None


@pytest.mark.parametrize(
    ("subject", "matched"),
    [
        ("Réponse automatique : Signalement", "Réponse automatique"),
        ("RE: Réponse automatique : Signalement", "Réponse automatique"),
        ("Absente du bureau", "Absente du bureau"),
        ("Absent(e) du bureau jusqu'au 7", "Absent(e) du bureau"),
        ("Absence : K. Benali", "Absence"),
        ("Out of Office: [MACERT-2026-000042]", "Out of Office"),
        ("Automatic reply: Incident", "Automatic reply"),
        ("Autoreply: Incident", "Autoreply"),
        ("[Auto-Reply] Incident", "Auto-Reply"),
        ("رد تلقائي: بلاغ", "رد تلقائي"),
        ("رد: خارج المكتب", "خارج المكتب"),
        ("=?utf-8?b?2LHYryDYqtmE2YLYp9im2Yo6INio2YTYp9i6?=", "رد تلقائي"),
    ],
)
def test_out_of_office_subjects(subject: str, matched: str) -> None:
    found = automatic(_message(f"From: k@interieur.gov.ma\r\nSubject: {subject}"))
    assert found == (Automatic.AUTO_REPLY, f"Subject: {matched}")


@pytest.mark.parametrize(
    "subject",
    [
        "Absence de réponse du serveur de messagerie",  # a real report
        "Incident : réponse automatique du pare-feu désactivée",
        "Signalement d'un hameçonnage",
        "رد على استفسار الوزارة",
    ],
)
def test_ordinary_subjects_are_not_out_of_office(subject: str) -> None:
    assert automatic(_message(f"From: k@interieur.gov.ma\r\nSubject: {subject}")) is None


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.ma", "postmaster@interieur.gov.ma"])
def test_bounce_senders(sender: str) -> None:
    found = automatic(_message(f"From: Mail System <{sender}>\r\nSubject: Undeliverable"))
    assert found == (Automatic.BOUNCE, f"From: {sender.lower()}")


def test_disposition_notification_is_a_bounce() -> None:
    message = _message(
        "From: k@interieur.gov.ma\r\nContent-Type: multipart/report; "
        "report-type=disposition-notification; boundary=r",
        "--r\r\nContent-Type: text/plain\r\n\r\nLu\r\n--r--\r\n",
    )
    expected = "Content-Type: multipart/report; report-type=disposition-notification"
    assert automatic(message) == (Automatic.BOUNCE, expected)


def test_null_return_path_with_a_delivery_report_inside_mixed() -> None:
    message = _message(
        "Return-Path: <>\r\nFrom: relay@interieur.gov.ma\r\n"
        "Content-Type: multipart/mixed; boundary=r",
        "--r\r\nContent-Type: text/plain\r\n\r\nNon remis\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n--r--\r\n",
    )
    assert automatic(message) == (Automatic.BOUNCE, "Return-Path: <> with a delivery report")


def test_a_bounce_wins_over_its_auto_submitted_header() -> None:
    message = BytesParser(policy=policy.default).parsebytes(raw_mail("bounce_dsn.eml"))
    assert isinstance(message, EmailMessage)
    found = automatic(message)
    assert found is not None and found[0] is Automatic.BOUNCE
