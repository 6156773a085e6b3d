"""What the incident file says after an action, and where: the notice next to the form that was
used (or in the header for its quick controls), the state bar's new state, errors of forms and of
services entirely in the reader's language — while the API keeps its English reasons and codes."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.clock import FrozenClock
from core.errors import Message
from core.i18n import N_, localise, translations
from core.identity.models import Role, User
from incidents.models import Incident
from tests.incidents.file_helpers import act, token
from tests.kit.api import envelope
from tests.kit.factories import INFECTED_HOST, MINIMAL, make_user, report
from tests.kit.web import sign_in, text
from tests.kit.world import World


@pytest.fixture
def incident(db_session: Session, clock: FrozenClock, reporter: User) -> Incident:
    return report(db_session, clock, reporter, INFECTED_HOST)


def notices(html: str, place: str) -> list[tuple[str, str]]:
    """(role, text) of the notices shown at ``place``."""
    found = re.findall(
        rf'role="(status|alert)" data-place="{place}">\s*<span[^>]*>[^<]*</span>(.*?)</div>',
        html,
        re.S,
    )
    return [(role, re.sub(r"\s+", " ", body).strip()) for role, body in found]


def state_bar(html: str) -> str:
    match = re.search(
        r'<div class="vigie-file-state.*?</div>\n<div class="vigie-page-head', html, re.S
    )
    assert match, "no state bar"
    return match.group(0)


def in_arabic(client: FlaskClient) -> None:
    client.get("/account?lang=ar")


def from_header(client: FlaskClient, reference: str, action: str, **fields: str) -> TestResponse:
    """A quick control of the header: the actions card's form, with ``place=head``."""
    data = {f"{action}-{key}": value for key, value in fields.items()}
    data |= {f"{action}-csrf_token": token(client), "place": "head"}
    return client.post(f"/incidents/{reference}/{action}", data=data)


def test_a_header_action_is_said_in_the_header_and_the_state_bar_shows_it(
    client: FlaskClient, db_session: Session, analyst: User, incident: Incident
) -> None:
    sign_in(client, analyst)
    in_arabic(client)
    ref = incident.reference
    response = from_header(client, ref, "status", to="triaged")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/incidents/{ref}#file-head"
    html = text(client.get(response.headers["Location"]))
    assert notices(html, "file-head") == [("status", "تغيرت الحالة: قيد الدراسة.")]
    assert notices(html, "file-status") == []  # said once, where it was done
    assert "vigie-status-triaged" in state_bar(html)
    assert html.index('data-place="file-head"') < html.index("<h1")  # above the fold
    response = from_header(client, ref, "assign", assignee=str(analyst.id))
    html = text(client.get(response.headers["Location"]))
    assert notices(html, "file-head") == [("status", f"أسند إلى {analyst.name}.")]
    assert analyst.name in state_bar(html)
    # the next page says nothing more: a notice is shown once
    assert notices(text(client.get(f"/incidents/{ref}")), "file-head") == []


def test_a_refused_header_change_is_explained_in_the_header_with_the_values_kept(
    client: FlaskClient, db_session: Session, analyst: User, incident: Incident
) -> None:
    sign_in(client, analyst)
    in_arabic(client)
    response = act(client, incident.reference, "priority", "priority", priority="P1", reason="")
    assert response.status_code == 422  # from the actions card: said there, not in the header
    html = text(response)
    assert notices(html, "file-head") == []
    [(role, said)] = notices(html, "file-priority")
    assert role == "alert" and said.startswith("لم يُنفَّذ:")
    response = from_header(client, incident.reference, "priority", priority="P1", reason="")
    html = text(response)
    [(role, said)] = notices(html, "file-head")
    assert role == "alert" and said.startswith("لم يُنفَّذ:") and "سبب" in said
    assert re.search(r'<option value="P1" selected>', html.split('id="head-priority"')[1])
    db_session.expire_all()
    assert incident.priority == "P3"


def test_service_errors_are_entirely_in_the_pages_language(
    client: FlaskClient, db_session: Session, clock: FrozenClock, analyst: User, incident: Incident
) -> None:
    sign_in(client, analyst)
    in_arabic(client)
    ref = incident.reference
    html = text(act(client, ref, "observables", "observable", type="ipv4", value="999.1.1.1"))
    [(role, said)] = notices(html, "observables")
    assert role == "alert" and "خارج المدى 0-255" in said and "out of range" not in html
    assert 'value="999.1.1.1"' in html  # what was typed is kept
    html = text(act(client, ref, "links", "link", reference="MACERT-2026-999999"))
    [(role, said)] = notices(html, "related")
    assert role == "alert" and "الحادث غير موجود" in said and "no such incident" not in html
    # an action without a form (a button): the error comes back as a notice at its place
    colleague = make_user(db_session, clock, role=Role.ANALYST, name="Nadia")
    response = act(client, ref, f"participants/{colleague.id}/remove")
    assert response.headers["Location"] == f"/incidents/{ref}#participants"
    html = text(client.get(response.headers["Location"]))
    assert notices(html, "participants") == [("alert", "لم يُنفَّذ: ليس مشاركًا")]
    assert "vigie-flashes" not in html and "not a participant" not in html
    # a status the workflow does not offer from here: refused by the form, in Arabic too
    response = act(client, ref, "status", "status", to="closed")
    assert response.status_code == 422
    [(role, said)] = notices(text(response), "file-status")
    assert role == "alert" and not re.search("[A-Za-z]{4,}", said), said


def test_the_api_keeps_its_english_reasons_whatever_the_language(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    headers = {**world.headers(world.analyst), "Accept-Language": "ar"}
    path = f"/api/v1/incidents/{incident.reference}/status"
    error = envelope(client.post(path, json={"status": "closed"}, headers=headers), 422)
    assert error["code"] == "validation_failed"
    assert error["fields"] == {"status": "cannot go from new to closed"}


def test_messages_translate_with_their_params() -> None:
    message = N_("at most %(limit)d characters", limit=300)
    assert isinstance(message, str) and message == "at most 300 characters"
    assert localise(message, translations("fr").gettext) == "300 caractères au plus"
    term = Message.term("closed", "Closed")
    transition = N_("cannot go from %(old)s to %(new)s", old=Message.term("new", "New"), new=term)
    assert transition == "cannot go from new to closed"
    assert localise(transition, translations("en").gettext) == "cannot go from New to Closed"
    assert localise("plain text", translations("ar").gettext) == "plain text"


def test_reclassify_shows_a_blank_choice_for_a_class_without_a_type(
    client: FlaskClient, db_session: Session, clock: FrozenClock, analyst: User, reporter: User
) -> None:
    incident = report(db_session, clock, reporter, MINIMAL)  # "other", no type
    sign_in(client, analyst)
    html = text(client.get(f"/incidents/{incident.reference}"))
    select = html.split('id="rsit-classification"')[1].split("</select>")[0]
    assert re.search(r'<option selected value="">— choisissez un type —</option>', select)
    assert select.count("selected") == 1  # not "Spam" (the first type) shown as chosen
    typed = report(db_session, clock, reporter, INFECTED_HOST)
    html = text(client.get(f"/incidents/{typed.reference}"))
    select = html.split('id="rsit-classification"')[1].split("</select>")[0]
    assert "choisissez un type" not in select
    assert re.search(r'<option selected value="malicious-code/infected-system">', select)


def test_a_markdown_reply_reaches_the_reporter_rendered_and_safe(
    client: FlaskClient, db_session: Session, analyst: User, reporter: User, incident: Incident
) -> None:
    sign_in(client, analyst)
    body = "Merci : **isolez** le poste.\n\n<script>alert(1)</script> [x](javascript:alert(2))"
    assert act(client, incident.reference, "replies", "reply", body=body).status_code == 302
    client.post("/logout", data={"csrf_token": token(client)})
    sign_in(client, reporter)
    html = text(client.get(f"/track/{incident.reference}"))
    assert "Merci : <strong>isolez</strong> le poste." in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert 'href="javascript' not in html
