"""The conversation between the CERT and the reporter, through the client on both backends:
replies reach the status page, internal comments and CERT-only fields never do, and the
reporter's answer (sanitised) reaches the analysts' timeline."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import Role, User
from incidents.models import Incident
from incidents.workspace import conversation, observables_admin, workflow
from tests.incidents.file_helpers import token
from tests.kit.factories import INFECTED_HOST, PASSWORD, SETTINGS, make_org, make_user, report
from tests.kit.web import login, logout, sign_in, text

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


@pytest.fixture
def incident(db_session: Session, clock: FrozenClock, reporter: User) -> Incident:
    return report(db_session, clock, reporter, INFECTED_HOST)


def answer(client: FlaskClient, incident: Incident, body: str) -> object:
    data = {"answer-body": body, "answer-csrf_token": token(client)}
    return client.post(f"/track/{incident.reference}/answer", data=data)


def test_replies_reach_the_status_page_and_nothing_internal_does(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    incident: Incident,
    analyst: User,
    reporter: User,
) -> None:
    sign_in(client, reporter)
    me, lead = Actor.for_user(analyst), Actor.for_user(make_user(db_session, clock, role=Role.LEAD))
    colleague = make_user(db_session, clock, role=Role.ANALYST, name="Nadia Participante")
    workflow.assign(db_session, me, incident, analyst, clock=clock)
    workflow.add_participant(db_session, lead, incident, colleague, clock=clock)
    workflow.set_priority(
        db_session, me, incident, "P1", "Raison interne du CERT", clock=clock, settings=SETTINGS
    )
    workflow.change_status(
        db_session, me, incident, "triaged", clock=clock, settings=SETTINGS, reason="Motif interne"
    )
    conversation.add_comment(db_session, me, incident, "Piste interne secrète", clock=clock)
    observables_admin.add_observable(db_session, me, incident, "domain", "c2.example", clock=clock)
    conversation.reply_to_reporter(
        db_session, me, incident, "<p>Isolez le poste</p>", clock=clock, settings=SETTINGS
    )
    db_session.flush()
    html = text(client.get(f"/track/{incident.reference}"))
    assert "Isolez le poste" in html and "Message du CERT" in html
    for secret in (
        "Piste interne secrète",
        "Raison interne du CERT",
        "Motif interne",
        "Amine Analyste",
        "amine@cert.gov.ma",
        "Nadia Participante",
        "c2.example",  # found by the analysts, not in the report
    ):
        assert secret not in html, secret
    assert 'name="answer-body"' in html  # the reporter may answer


def test_the_reporters_answer_reaches_the_analysts_timeline(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    incident: Incident,
    analyst: User,
    reporter: User,
) -> None:
    sign_in(client, reporter)
    response = answer(client, incident, f"Le poste est isolé. {XSS}")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response.headers["Location"] == f"/track/{incident.reference}#conversation"  # type: ignore[attr-defined]
    track = text(client.get(f"/track/{incident.reference}"))
    logout(client)
    login(client, analyst.email, PASSWORD)
    html = text(client.get(f"/incidents/{incident.reference}"))
    for page in (track, html):
        assert "Le poste est isolé." in page
        assert not re.search(r"<script(?![^>]*\bsrc=)", page, re.IGNORECASE)
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", page, re.IGNORECASE)
    assert "vigie-event-reporter_reply" in html
    assert 'name="answer-body"' not in text(client.get(f"/track/{incident.reference}"))


def test_an_empty_answer_is_refused_next_to_the_field(
    client: FlaskClient, db_session: Session, incident: Incident, reporter: User
) -> None:
    sign_in(client, reporter)
    response = answer(client, incident, "   ")
    html = text(response)  # type: ignore[arg-type]
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert re.search(
        r'<textarea[^>]*id="answer-body"[^>]*is-invalid|<textarea[^>]*is-invalid[^>]*id="answer-body"',
        html,
    )
    assert 'class="invalid-feedback"' in html


def test_another_organisation_cannot_answer(
    client: FlaskClient, db_session: Session, clock: FrozenClock, incident: Incident, reporter: User
) -> None:
    sign_in(client, reporter)
    stranger = make_user(db_session, clock, org=make_org(db_session, clock))
    logout(client)
    login(client, stranger.email, PASSWORD)
    assert answer(client, incident, "Intrus").status_code == 404  # type: ignore[attr-defined]


def test_the_file_and_status_page_speak_arabic_right_to_left(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    incident: Incident,
    analyst: User,
    reporter: User,
) -> None:
    sign_in(client, reporter)
    track = text(client.get(f"/track/{incident.reference}?lang=ar"))
    assert '<html lang="ar" dir="rtl"' in track and "وزارة الداخلية" in track
    logout(client)
    login(client, analyst.email, PASSWORD)
    html = text(client.get(f"/incidents/{incident.reference}?lang=ar"))
    assert '<html lang="ar" dir="rtl"' in html and "bootstrap.rtl.min.css" in html
    assert not re.search(r'class="[^"]*\b(?:ml|mr|pl|pr)-\d', html)  # logical spacing only
