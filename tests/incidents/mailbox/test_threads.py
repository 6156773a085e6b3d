"""Thread helpers: references in subjects, clean subjects, the new part of a reply."""

from __future__ import annotations

import pytest

from incidents.mailbox.threads import clean_subject, new_text, references_in
from tests.incidents.mailbox.corpus import parsed_mail

PREFIX = "MACERT"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: [MACERT-2026-000042] Hameçonnage", ["MACERT-2026-000042"]),
        ("suite macert-2026-000042", ["MACERT-2026-000042"]),
        (
            "[MACERT-2026-000042] et MACERT-2025-001234, encore [MACERT-2026-000042]",
            ["MACERT-2026-000042", "MACERT-2025-001234"],
        ),
        ("XMACERT-2026-000042 ou MACERT-2026-00004 ou MACERT-26-000042", []),
        ("[OTHERCERT-2026-000042] pas le nôtre", []),
        ("رد: [MACERT-2026-000042] تصيد", ["MACERT-2026-000042"]),
    ],
)
def test_references_in_subject(subject: str, expected: list[str]) -> None:
    assert references_in(subject, PREFIX) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (
            "RE\xa0: Re: [MACERT-2026-000042] Signalement d'un hameçonnage",
            "Signalement d'un hameçonnage",
        ),
        ("TR: Fwd: FW: Alerte", "Alerte"),
        ("Réf : AW: SV: RV: Alerte", "Alerte"),
        ("Re[2]: Re(3): Alerte", "Alerte"),
        ("رد: إعادة توجيه： [MACERT-2026-000042] تصيد احتيالي", "تصيد احتيالي"),
        ("  Alerte   sur\t le   portail  ", "Alerte sur le portail"),
        ("Resultat de l'analyse", "Resultat de l'analyse"),  # "Re" only as a prefix
        ("", ""),
    ],
)
def test_clean_subject(subject: str, expected: str) -> None:
    assert clean_subject(subject, PREFIX) == expected


def test_new_text_of_the_outlook_reply_in_the_corpus() -> None:
    reply = parsed_mail("reply_fr_quoted.eml")
    assert new_text(reply.text) == (
        "Bonjour,\n\nMerci pour votre retour. Les journaux du pare-feu sont en pièce jointe ;"
        " l'adresse\n198.51.100.77 apparaît aussi le 2 décembre.\n\nCordialement,\nKarim Benali"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Merci.\n\nLe jeu. 3 déc. 2026 à 10:12, CERT <cert@cert.gov.ma> a écrit :\n> Bonjour",
            "Merci.",
        ),
        (
            "Merci.\n\nLe jeu. 3 déc. 2026 à 10:12, CERT <cert@cert.gov.ma> a\nécrit :\n> Bonjour",
            "Merci.",
        ),
        (
            "Thanks.\nOn Thu, Dec 3, 2026 at 10:12 AM CERT <cert@cert.gov.ma> wrote:\n> Hi",
            "Thanks.",
        ),
        ("Ok.\n-----Original Message-----\nFrom: CERT\nSent: Thursday", "Ok."),
        ("Vu.\n-------- Message original --------\nSujet : x", "Vu."),
        ("Vu.\n\nDe : CERT <cert@cert.gov.ma>\nEnvoyé : jeudi 3 décembre 2026\nÀ : moi", "Vu."),
        ("Vu.\n________________________________\nFrom: CERT\nSent: Thursday", "Vu."),
        ("شكرا\n\nفي الخميس، 3 ديسمبر 2026، كتب CERT <cert@cert.gov.ma>:\n> مرحبا", "شكرا"),
        ("Réponse.\n\n> citation\n> encore\n\n", "Réponse."),
        ("a\n> q1\nb\n> q2", "a\n> q1\nb"),  # interleaved answers kept
        (
            "Le pirate a écrit : « payez »\nVoici la suite.",
            "Le pirate a écrit : « payez »\nVoici la suite.",
        ),
    ],
)
def test_new_text_leaves_the_quoted_history_out(text: str, expected: str) -> None:
    assert new_text(text) == expected


@pytest.mark.parametrize(
    "text",
    ["> tout est cité\n> encore", "-----Original Message-----\nFrom: x\n"],
)
def test_new_text_is_never_empty_for_a_non_blank_text(text: str) -> None:
    assert new_text(text) == text.strip()


def test_new_text_of_nothing_is_nothing() -> None:
    assert new_text("  \n") == ""
