"""The reporters' incident pages through the client, on both backends: the report form (success,
field errors, staff, attachments), the confirmation, the status page, the organisation's list and
attachment downloads — organisation isolation included."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import Role, User
from core.mail_compose import rendered
from core.outbox import OutboxMessage
from incidents.intake.service import add_event
from incidents.models import Attachment, Incident
from incidents.settings import IntakeSettings
from tests.kit.factories import MINIMAL, PASSWORD, make_org, make_user, report
from tests.kit.web import csrf_token, login, logout, sign_in, text

SETTINGS = IntakeSettings()
FORM = {
    "title": "Courriels d'hameçonnage visant la messagerie",
    "description": (
        "Des agents ont reçu un lien hxxps://webmail-finances[.]com/login depuis "
        "185.220.101[.]7 ; deux comptes ont saisi leur mot de passe."
    ),
    "classification": "fraud/phishing",
    "impact": "high",
    "urgency": "high",
    "tlp": "TLP:AMBER",
    "pap": "PAP:AMBER",
    "detected_at": "2026-01-15T08:30",
    "reporter_state": "contained",
    "affected_assets": "webmail.finances.gov.ma\n\nposte DAF-12\n",
    "users_affected": "2",
    "systems_affected": "1",
    "actions_taken": "Mots de passe réinitialisés.",
    "contact_name": "Leila Berrada",
    "contact_phone": "+212 5 37 00 00 00",
    "contact_email": "rssi@interieur.gov.ma",  # the reporter's own address
}


def post_form(client: FlaskClient, data: dict[str, Any], **changes: Any) -> TestResponse:
    token = csrf_token(text(client.get("/incidents/new")))
    body = {**data, **changes, "csrf_token": token}
    return client.post("/incidents/new", data={k: v for k, v in body.items() if v is not None})


# ---------------------------------------------------------------- the report form
def test_reporter_submits_the_form_and_sees_the_reference(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    form = text(sign_in(client, reporter).get("/incidents/new"))
    assert 'value="Leila Berrada"' in form and 'value="rssi@interieur.gov.ma"' in form  # prefilled
    assert 'name="organisation"' not in form  # reporters report for their own organisation
    response = post_form(client, FORM)
    reference = f"MACERT-{clock.now().year}-000001"
    assert response.status_code == 302
    assert response.headers["Location"] == f"/incidents/{reference}/submitted"
    page = text(client.get(response.headers["Location"]))
    assert reference in page and "P2" in page  # high × high
    assert "15 janv. 2026, 14:00" in page  # acknowledge by 09:00 UTC + 4 h, Casablanca time
    assert f'href="/track/{reference}"' in page
    incident = db_session.scalars(select(Incident)).one()
    assert incident.organisation.slug == "min-interieur" and incident.reporter_id == reporter.id
    assert (incident.category, incident.type, incident.priority) == ("fraud", "phishing", "P2")
    assert (incident.tlp, incident.pap, incident.reporter_state) == (
        "TLP:AMBER",
        "PAP:AMBER",
        "contained",
    )
    assert incident.detected_at == dt.datetime(2026, 1, 15, 7, 30, tzinfo=dt.UTC)  # UTC+1
    assert incident.affected_assets == ["webmail.finances.gov.ma", "poste DAF-12"]
    assert (incident.users_affected, incident.systems_affected) == (2, 1)
    assert (incident.contact_phone, incident.contact_email) == (
        "+212 5 37 00 00 00",
        "rssi@interieur.gov.ma",
    )
    assert {(o.type, o.value) for o in incident.observables} >= {
        ("url", "https://webmail-finances.com/login"),
        ("ipv4", "185.220.101.7"),
    }
    mail = db_session.scalars(select(OutboxMessage)).one()
    assert mail.to_addr == "rssi@interieur.gov.ma" and mail.language == "fr"
    assert reference in rendered(mail)[0]


def test_the_acknowledgement_is_in_the_reporters_language(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, locale="ar", email="rssi@sante.gov.ma")
    login(client, user.email, PASSWORD)
    assert post_form(client, FORM).status_code == 302
    mail = db_session.scalars(select(OutboxMessage)).one()
    assert mail.language == "ar" and "التصيد" in rendered(mail)[1]  # the RSIT type, translated


def test_invalid_input_is_shown_next_to_each_field_and_kept(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    sign_in(client, reporter)
    response = post_form(
        client,
        FORM,
        title="ab",
        description="   ",
        classification=None,
        contact_phone="appelez-moi",
        contact_email="pas-une-adresse",
        users_affected="-3",
        systems_affected="beaucoup",
        detected_at="2026-01-16T08:00",  # tomorrow
    )
    assert response.status_code == 422
    page = text(response)
    expected = {
        "title": "Trop court\u00a0: au moins 3 caractères.",
        "description": "Ce champ est obligatoire.",
        "classification": "Ce champ est obligatoire.",
        "contact_phone": "Utilisez uniquement des chiffres",
        "contact_email": "Saisissez une adresse e-mail valide",
        "users_affected": "Saisissez 0 ou plus.",
        "systems_affected": "Saisissez un nombre entier.",
        "detected_at": "La date ne peut pas être dans le futur.",
    }
    for field, message in expected.items():
        assert re.search(rf'href="#{field}"[^>]*>[^<]+</a> — {re.escape(message)}', page), field
    assert 'value="ab"' in page and 'value="appelez-moi"' in page  # the input is kept
    assert "webmail.finances.gov.ma\n\nposte DAF-12" in page
    assert 'value="fraud/phishing"' in page and 'value="high" checked' in page
    assert "Sélectionnez à nouveau vos fichiers" not in page
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 0
    assert db_session.scalars(select(OutboxMessage)).all() == []


def test_service_errors_land_on_the_field_and_nothing_is_kept(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    sign_in(client, reporter)
    response = post_form(client, FORM, classification="fraud/ddos", title="Titre conservé")
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'href="#classification"[^>]*>[^<]+</a> — type RSIT inconnu', page)
    assert "type RSIT inconnu &#39;ddos&#39;" in page and 'value="Titre conservé"' in page
    assert "unknown" not in page and "Cette valeur" not in page  # all in the page's language
    assert post_form(client, FORM).status_code == 302  # the reference was not used up
    assert db_session.scalars(select(Incident.reference)).one().endswith("-000001")


def test_a_form_without_its_csrf_token_is_refused(
    client: FlaskClient, db_session: Session, reporter: User
) -> None:
    sign_in(client, reporter)
    assert client.post("/incidents/new", data=FORM).status_code == 400
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 0


def test_cert_staff_choose_the_organisation(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    make_org(db_session, clock, slug="cnss", name="Caisse Nationale de Sécurité Sociale")
    analyst = make_user(db_session, clock, role=Role.ANALYST)
    login(client, analyst.email, PASSWORD)
    form = text(client.get("/incidents/new"))
    assert '<option value="cnss">Caisse Nationale' in form
    assert analyst.email not in form  # the contact is someone of the organisation, not staff
    page = text(post_form(client, FORM))
    assert re.search(r'href="#organisation"[^>]*>[^<]+</a> — ', page)
    assert post_form(client, FORM, organisation="cnss").status_code == 302
    incident = db_session.scalars(select(Incident)).one()
    assert incident.organisation.slug == "cnss" and incident.reporter_id == analyst.id
    assert db_session.scalars(select(OutboxMessage.to_addr)).one() == "rssi@interieur.gov.ma"
    assert incident.reference in text(client.get("/incidents/mine"))  # staff: what they recorded


# ---------------------------------------------------------------- attachments
def test_attachments_are_stored_listed_and_downloaded(
    client: FlaskClient, app: Flask, db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    sign_in(client, reporter)
    log = b"2026-01-15 08:12 POST /login from 203.0.113.66\n"
    token = csrf_token(text(client.get("/incidents/new")))
    files = [(_file(log), "acces.log"), (_file(b"%PDF-1.7 fake"), "capture <1>.pdf")]
    response = client.post(
        "/incidents/new",
        data={**FORM, "csrf_token": token, "attachments": files},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    incident = db_session.scalars(select(Incident)).one()
    assert [a.filename for a in incident.attachments] == ["acces.log", "capture _1_.pdf"]
    assert ("ipv4", "203.0.113.66") in {(o.type, o.value) for o in incident.observables}
    page = text(client.get(f"/track/{incident.reference}"))
    first = incident.attachments[0]
    assert hashlib.sha256(log).hexdigest() == first.sha256 and first.sha256 in page
    url = f"/incidents/{incident.reference}/attachments/{first.id}"
    assert f'href="{url}"' in page
    with client.get(url) as download:
        assert download.status_code == 200 and download.data == log
        headers = download.headers
    assert headers["Content-Disposition"] == "attachment; filename=acces.log"
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert "no-store" in headers["Cache-Control"]
    assert (
        client.get(f"/incidents/{incident.reference}/attachments/{first.id + 99}").status_code
        == 404
    )


def test_an_attachment_over_the_limit_sends_nothing(
    client: FlaskClient, app: Flask, db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    sign_in(client, reporter)
    app.extensions["incidents"] = dataclasses.replace(SETTINGS, max_upload_bytes=16)
    token = csrf_token(text(client.get("/incidents/new")))
    response = client.post(
        "/incidents/new",
        data={**FORM, "csrf_token": token, "attachments": [(_file(b"x" * 17), "gros.bin")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = text(response)
    assert re.search(
        r'href="#attachments"[^>]*>[^<]+</a> — «\u00a0gros.bin\u00a0» dépasse 16', page
    )
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 0
    assert db_session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_request_over_the_upload_limit_is_refused(
    client: FlaskClient, app: Flask, db_session: Session, reporter: User
) -> None:
    sign_in(client, reporter)
    token = csrf_token(text(client.get("/incidents/new")))
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post(
        "/incidents/new",
        data={**FORM, "csrf_token": token, "attachments": [(_file(b"x" * 2048), "gros.bin")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and "Requête trop volumineuse" in text(response)
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 0


def _file(content: bytes) -> Any:
    import io

    return io.BytesIO(content)


# ---------------------------------------------------------------- following a report
def test_the_status_page_shows_public_information_only(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    sign_in(client, reporter)
    incident = report(
        db_session, clock, reporter, MINIMAL, description="Source 198.51.100.23", tlp="TLP:RED"
    )
    staff = Actor.for_user(make_user(db_session, clock, role=Role.ANALYST))
    add_event(db_session, incident, staff, "comment", clock=clock, data={"text": "Piste interne"})
    clock.advance(hours=25)  # P3: acknowledgement due within 24 h
    add_event(
        db_session,
        incident,
        staff,
        "reply",
        clock=clock,
        public=True,
        data={"message": "Bien reçu"},
    )
    db_session.flush()
    login(client, reporter.email, PASSWORD)  # a day later: the session of yesterday has expired
    page = text(client.get(f"/track/{incident.reference.lower()}"))
    assert incident.reference in page and "Reçu" in page and "Bien reçu" in page
    assert "Piste interne" not in page  # internal comments never reach the reporter
    assert 'class="vigie-marking tlp-red"' in page and 'class="vigie-marking pap-amber"' in page
    assert "198.51.100.23" in page and "En retard" in page
    assert "Message du CERT" in page
    assert page.index("Bien reçu") < page.index("Signalement reçu")  # newest first


def test_only_the_reporting_organisation_and_staff_see_an_incident(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    sign_in(client, reporter)
    incident = report(db_session, clock, reporter, MINIMAL)
    attachment_url = f"/incidents/{incident.reference}/attachments/1"
    paths = [f"/track/{incident.reference}", f"/incidents/{incident.reference}/submitted"]
    for path in paths:
        assert client.get(path).status_code == 200
    other = make_user(db_session, clock, org=make_org(db_session, clock))
    logout(client)
    login(client, other.email, PASSWORD)
    for path in [*paths, attachment_url]:
        assert client.get(path).status_code == 404, path
    assert incident.reference not in text(client.get("/incidents/mine"))
    logout(client)
    login(client, make_user(db_session, clock, role=Role.LEAD).email, PASSWORD)
    assert client.get(paths[0]).status_code == 200


def test_anonymous_visitors_are_sent_to_the_login_page(client: FlaskClient) -> None:
    for path in ("/track/MACERT-2026-000001", "/incidents/new", "/incidents/mine"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_my_organisations_reports_newest_first_by_page(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    sign_in(client, reporter)
    colleague = make_user(db_session, clock, org=reporter.organisation)
    for n in range(27):
        by = colleague if n % 2 else reporter
        report(db_session, clock, by, MINIMAL, title=f"Incident n°{n:02}")
        clock.advance(minutes=4)  # and a minute after each report: five minutes apart
    stranger = make_user(db_session, clock, org=make_org(db_session, clock))
    report(db_session, clock, stranger, MINIMAL, title="Incident d'un autre ministère")
    login(client, reporter.email, PASSWORD)  # 2 h 15 later: the first session went idle
    first = text(client.get("/incidents/mine"))
    assert first.count('href="/track/') == 25 and "Total\u00a0: 27" in first
    assert first.index("Incident n°26") < first.index("Incident n°25")
    assert "autre ministère" not in first and "Incident n°01" not in first
    second = text(client.get("/incidents/mine?page=2"))
    assert second.count('href="/track/') == 2 and "Incident n°00" in second


# ---------------------------------------------------------------- languages and markup
def test_the_form_speaks_arabic_right_to_left(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    sign_in(client, reporter)
    page = text(client.get("/incidents/new?lang=ar"))
    assert '<html lang="ar" dir="rtl"' in page
    for arabic in ("الإبلاغ عن حادث", "التصيد الاحتيالي", "الاحتيال", "برمجيات خبيثة"):
        assert arabic in page, arabic
    incident = report(db_session, clock, reporter, MINIMAL)
    track = text(client.get(f"/track/{incident.reference}"))
    assert '<html lang="ar" dir="rtl"' in track and "تم الاستلام" in track


def test_the_form_explains_every_choice_in_plain_words(client: FlaskClient, reporter: User) -> None:
    sign_in(client, reporter)
    page = text(client.get("/incidents/new?lang=en"))
    assert "Fake e-mails or websites imitating a trusted body" in page  # not "fraud/phishing"
    assert 'value="TLP:AMBER" checked' in page and 'value="PAP:AMBER" checked' in page
    assert "Damage is happening right now" in page and "Essential services are stopped" in page
    assert 'type="datetime-local"' in page and 'max="2026-01-15T10:00"' in page
    assert "20 MB at most in total" in page
    title = re.search(r'<input[^>]+name="title"[^>]*>', page)
    assert title and all(a in title.group(0) for a in ("required", 'maxlength="300"'))
    email = re.search(r'<input[^>]+name="contact_email"[^>]*>', page)
    assert email and 'type="email"' in email.group(0)


@pytest.mark.parametrize("path", ["/", "/incidents/new", "/incidents/mine", "track", "submitted"])
def test_pages_have_no_inline_script_or_style(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User, path: str
) -> None:
    sign_in(client, reporter)
    if path in ("track", "submitted"):
        reference = report(db_session, clock, reporter, MINIMAL).reference
        path = f"/track/{reference}" if path == "track" else f"/incidents/{reference}/submitted"
    page = text(client.get(path))
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page, re.IGNORECASE)
    assert not re.search(r"<style\b|\sstyle\s*=", page, re.IGNORECASE)
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", page, re.IGNORECASE)


def test_reporters_find_the_pages_from_the_navigation(client: FlaskClient, reporter: User) -> None:
    sign_in(client, reporter)
    page = text(client.get("/"))
    assert 'href="/incidents/new"' in page and 'href="/incidents/mine"' in page
    assert "Mes signalements" in page and "Prochainement" not in page
