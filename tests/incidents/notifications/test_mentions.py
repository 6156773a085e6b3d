"""``@name`` mentions: the handles a comment names, and the handles that name a user."""

from __future__ import annotations

from incidents.notifications.mentions import MAX_MENTIONS, handles, mentioned


def test_mentions_are_local_parts_or_names_without_spaces() -> None:
    text = "Merci @n.alaoui et @Élodie_Martin; cc @Karim-Idrissi. Voir aussi @nadia."
    assert mentioned(text) == {"n.alaoui", "elodie_martin", "karim-idrissi", "nadia"}


def test_an_address_or_a_lone_at_sign_is_not_a_mention() -> None:
    assert mentioned("écrire à lead@cert.ma ou @ seul, ou a@@b, ou x.@y") == set()
    assert mentioned("(@lead) [@lead2]") == {"lead", "lead2"}


def test_arabic_names_are_handles_too() -> None:
    assert mentioned("شكرا @نادية") == {"نادية"}
    assert "نادية" in handles("نادية", "n@cert.ma")


def test_a_user_is_named_by_local_part_or_name_whatever_the_case_and_accents() -> None:
    named = handles("Élodie Martin", "e.martin@cert.gov.ma")
    assert named == {"e.martin", "elodiemartin", "elodie.martin", "elodie_martin", "elodie-martin"}
    assert "elodie" not in named  # a first name alone is ambiguous


def test_mentions_are_bounded() -> None:
    text = " ".join(f"@user{i}" for i in range(MAX_MENTIONS * 2))
    assert len(mentioned(text)) == MAX_MENTIONS
