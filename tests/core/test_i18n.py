"""Languages: French by default, English and Arabic (right to left), chosen per request."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import render_template_string
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.clock import FrozenClock
from tests.catalogues import catalogue, source_messages
from tests.kit.factories import PASSWORD, make_user
from tests.kit.web import login, text

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
LOGIN_TITLE = {"fr": "Connexion à Vigie", "en": "Sign in to Vigie", "ar": "تسجيل الدخول إلى Vigie"}


def _language(page: str) -> tuple[str, str]:
    match = re.search(r'<html lang="(\w+)" dir="(\w+)"', page)
    assert match, "no <html lang dir>"
    return match.group(1), match.group(2)


def test_french_is_the_default(client: FlaskClient) -> None:
    page = text(client.get("/login"))
    assert _language(page) == ("fr", "ltr")
    assert LOGIN_TITLE["fr"] in page and "Mot de passe" in page
    assert "vendor/bootstrap.min.css" in page and "rtl" not in page.split("</head>")[0]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("en-GB,en;q=0.8", "en"), ("ar-MA,ar;q=0.9,fr;q=0.5", "ar"), ("de-DE", "fr"), ("fr-MA", "fr")],
)
def test_accept_language_is_honoured(client: FlaskClient, header: str, expected: str) -> None:
    page = text(client.get("/login", headers={"Accept-Language": header}))
    assert _language(page)[0] == expected
    assert LOGIN_TITLE[expected] in page


def test_arabic_is_right_to_left_with_the_rtl_stylesheet(client: FlaskClient) -> None:
    page = text(client.get("/login?lang=ar"))
    assert _language(page) == ("ar", "rtl")
    assert "vendor/bootstrap.rtl.min.css" in page
    for arabic in ("تسجيل الدخول إلى Vigie", "كلمة المرور", "البريد الإلكتروني"):
        assert arabic in page


def test_the_lang_switch_is_kept_in_the_session(client: FlaskClient) -> None:
    client.get("/login?lang=en")
    assert _language(text(client.get("/login", headers={"Accept-Language": "ar"})))[0] == "en"
    client.get("/login?lang=ar")
    assert _language(text(client.get("/login")))[0] == "ar"
    client.get("/login?lang=xx")  # unknown codes are ignored
    assert _language(text(client.get("/login")))[0] == "ar"


def test_switcher_links_work_without_javascript_and_keep_the_query(client: FlaskClient) -> None:
    page = text(client.get("/login?next=%2Faccount&lang=fr"))
    assert 'href="/login?next=%2Faccount&amp;lang=ar" lang="ar" hreflang="ar"' in page
    assert 'href="/login?next=%2Faccount&amp;lang=en"' in page
    assert ">العربية</a>" in page and ">English</a>" in page and ">Français</a>" in page


def test_the_users_preference_applies_after_sign_in(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, locale="ar", name="Youssef")
    login(client, user.email, PASSWORD)
    page = text(client.get("/"))
    assert _language(page) == ("ar", "rtl")
    assert "لوحة القيادة" in page and "مرحبًا، Youssef" in page
    client.get("/?lang=en")  # an explicit switch wins over the preference
    assert "Dashboard" in text(client.get("/"))


def test_error_pages_are_translated(client: FlaskClient) -> None:
    assert "الصفحة غير موجودة" in text(client.get("/nope?lang=ar"))
    assert "Page not found" in text(client.get("/nope?lang=en"))
    assert "Page introuvable" in text(client.get("/nope?lang=fr"))


def test_dates_follow_the_language(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    login(client, user.email, PASSWORD)
    assert "15 janv. 2026" in text(client.get("/account?lang=fr"))  # Africa/Casablanca
    assert "Jan 15, 2026" in text(client.get("/account?lang=en"))


@pytest.mark.parametrize("locale", ["fr", "ar"])
def test_every_source_string_is_translated(locale: str) -> None:
    """`make messages` then translate: no UI string may fall back to English in fr or ar."""
    messages = {message.id: message for message in catalogue(locale) if message.id}
    # a plural entry is keyed by its (singular, plural) pair; the sources list each msgid
    known = {i for key in messages for i in (key if isinstance(key, tuple) else (key,))}
    missing = sorted(source_messages() - known)
    assert not missing, f"not in the {locale} catalogue (run `make messages`): {missing}"
    for msgid, message in messages.items():
        assert message.string, f"{locale}: untranslated {msgid!r}"
        assert not message.fuzzy, f"{locale}: fuzzy {msgid!r}"
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        for form in forms:
            assert form, f"{locale}: untranslated plural form of {msgid!r}"
            found, wanted = set(PLACEHOLDER.findall(str(form))), set(PLACEHOLDER.findall(ids[-1]))
            if isinstance(msgid, tuple) and wanted == {"num"}:
                # Arabic's "one" and "two" forms say the count in words ("هيئتان"): the number
                # may be left out of a plural form, never another placeholder added
                assert found <= wanted, f"{locale}: placeholders of {msgid!r}"
            else:
                assert found == wanted, f"{locale}: placeholders of {msgid!r}"
            assert "<" not in str(form), "translations are trusted HTML: no markup"


@pytest.mark.parametrize(("zone", "hour"), [("Asia/Tokyo", "21:30"), ("America/Montreal", "07:30")])
def test_pages_show_dates_in_the_configured_time_zone(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    zone: str,
    hour: str,
) -> None:
    """``CERT_TIMEZONE`` reaches the pages' date filter (it was hard-coded to Casablanca)."""
    app = create_app({**settings, "timezone": zone}, session_factory=session_factory, clock=clock)
    moment = dt.datetime(2026, 12, 3, 12, 30, tzinfo=dt.UTC)
    with app.test_request_context("/?lang=en"):
        shown = render_template_string("{{ value|datetimeformat }}", value=moment)
    assert hour in shown, shown
