"""Merges and links across organisations and TLP levels, rule by rule (both databases): who may
merge, what the reporter of each side keeps reading, and every place that names another
incident. The role × surface sweep is ``test_cross_organisation_matrix.py``."""

from __future__ import annotations

from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.mail_compose import rendered
from incidents.models import Incident, IncidentStatus
from incidents.workspace import merge, workflow
from tests.incidents.cross_scene import DUPLICATE, SURVIVOR, Cross, confirm
from tests.incidents.workspace_helpers import outbox
from tests.kit.api import PHISHING, URL, envelope
from tests.kit.factories import PASSWORD, SETTINGS, report
from tests.kit.web import csrf_token, login, text
from tests.kit.world import World


def unchanged(session: Session, *incidents: Incident) -> bool:
    for incident in incidents:
        session.refresh(incident)
    return all(i.status != IncidentStatus.DUPLICATE for i in incidents)


# ---------------------------------------------------------------- who may merge
def test_only_a_lead_naming_both_organisations_merges_across_them(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    survivor = report(db_session, clock, world.reporter, **SURVIVOR)
    other = report(db_session, clock, world.other_reporter, **DUPLICATE)
    path = f"{URL}/{other.reference}/merge"
    analyst, lead = world.headers(world.analyst), world.headers(world.lead)
    both = confirm(other, survivor)
    refused = client.post(
        path, json={"into": survivor.reference, "confirm_organisations": both}, headers=analyst
    )
    assert "lead" in envelope(refused, 403)["message"]
    error = envelope(client.post(path, json={"into": survivor.reference}, headers=lead), 422)
    assert set(error["fields"]) == {"confirm_organisations"}
    assert all(slug in error["fields"]["confirm_organisations"] for slug in both)
    for wrong in ([both[0]], [both[0], "min-finances"], [*both, "min-finances"]):
        body = {"into": survivor.reference, "confirm_organisations": wrong}
        envelope(client.post(path, json=body, headers=lead), 422)
    assert unchanged(db_session, survivor, other)
    body = {"into": survivor.reference, "confirm_organisations": list(reversed(both))}
    merged = client.post(path, json=body, headers=lead)
    assert merged.status_code == 200, text(merged)
    assert "sante-exfil.example" in {o["value"] for o in merged.get_json()["observables"]}
    db_session.refresh(other)
    assert other.status == IncidentStatus.DUPLICATE and other.duplicate_of_id == survivor.id


def test_a_less_strict_tlp_is_refused_even_to_a_lead(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    survivor = report(db_session, clock, world.reporter, tlp="TLP:GREEN")
    red = report(db_session, clock, world.other_reporter, tlp="TLP:RED")
    body = {"into": survivor.reference, "confirm_organisations": confirm(red, survivor)}
    lead = world.headers(world.lead)
    error = envelope(client.post(f"{URL}/{red.reference}/merge", json=body, headers=lead), 422)
    assert set(error["fields"]) == {"into"}
    assert unchanged(db_session, survivor, red)


def test_the_web_form_asks_the_lead_to_confirm_both_organisations(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    survivor = report(db_session, clock, world.reporter, **SURVIVOR)
    other = report(db_session, clock, world.other_reporter, **DUPLICATE)
    login(client, world.lead.email, PASSWORD)
    page = f"/incidents/{other.reference}"
    form = {"csrf_token": csrf_token(text(client.get(page))), "merge-reference": survivor.reference}
    asked = client.post(f"{page}/merge", data=form)
    assert asked.status_code == 422 and unchanged(db_session, survivor, other)
    html = text(asked)
    assert 'name="merge-confirm"' in html
    assert escape(world.interieur.name) in html and escape(world.sante.name) in html
    refused = client.post(f"{page}/merge", data={**form, "merge-confirm": "min-interieur"})
    assert refused.status_code == 422 and unchanged(db_session, survivor, other)
    done = client.post(f"{page}/merge", data={**form, "merge-confirm": "min-sante min-interieur"})
    assert done.status_code == 302 and survivor.reference in done.headers["Location"]
    db_session.refresh(other)
    assert other.status == IncidentStatus.DUPLICATE


def test_the_web_form_tells_an_analyst_only_a_lead_merges_across_organisations(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    survivor = report(db_session, clock, world.reporter, **SURVIVOR)
    other = report(db_session, clock, world.other_reporter, **DUPLICATE)
    login(client, world.analyst.email, PASSWORD)
    page = f"/incidents/{other.reference}"
    form = {"csrf_token": csrf_token(text(client.get(page))), "merge-reference": survivor.reference}
    confirmed = {**form, "merge-confirm": "min-sante min-interieur"}
    refused = client.post(f"{page}/merge", data=confirmed)
    assert refused.status_code == 422 and unchanged(db_session, survivor, other)
    said = text(refused)
    assert "seul un coordinateur fusionne" in said and 'name="merge-confirm"' not in said


def test_an_analyst_still_merges_within_one_organisation(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    a, b = report(db_session, clock, world.reporter), report(db_session, clock, world.reporter)
    merge.merge(db_session, world.actor(world.analyst), a, b, clock=clock, settings=SETTINGS)
    assert b.status == IncidentStatus.DUPLICATE


# ---------------------------------------------------------------- the two reporters


def test_the_reporter_of_the_duplicate_follows_the_survivor_without_seeing_it(
    client: FlaskClient, db_session: Session, clock: FrozenClock, cross: Cross
) -> None:
    world, survivor = cross.world, cross.survivor
    theirs = world.headers(world.other_reporter)
    response = client.get(f"{URL}/{cross.duplicate.reference}", headers=theirs)
    body = response.get_json()
    assert body["status"] == "duplicate"
    assert body["merged_into"] == {
        "reference": None,
        "status": "in_progress",
        "resolved_at": None,
        "closed_at": None,
    }
    values = {o["value"] for o in body["observables"]}
    assert {"sante-exfil.example", "CVE-2024-31337", "c2-dossier.example"} <= values
    assert "webmail-interieur.com" not in values
    assert survivor.reference not in text(response) and survivor.title not in text(response)
    envelope(client.get(f"{URL}/{survivor.reference}", headers=theirs), 404)
    lead = Actor.for_user(world.lead)
    workflow.change_status(
        db_session, lead, survivor, "resolved", clock=clock, settings=SETTINGS, resolution="ok",
        assignee=world.lead,
    )  # fmt: skip
    db_session.flush()
    later = client.get(f"{URL}/{cross.duplicate.reference}", headers=theirs).get_json()
    assert later["merged_into"]["status"] == "resolved"
    assert later["merged_into"]["resolved_at"] is not None


def test_within_one_organisation_the_reporter_is_told_the_survivor(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    survivor, other = (
        report(db_session, clock, world.reporter),
        report(db_session, clock, world.reporter),
    )
    merge.merge(
        db_session, world.actor(world.analyst), survivor, other, clock=clock, settings=SETTINGS
    )
    db_session.flush()
    body = client.get(f"{URL}/{other.reference}", headers=world.headers(world.reporter)).get_json()
    assert body["merged_into"]["reference"] == survivor.reference


def test_the_survivor_reporter_gets_nothing_of_the_other_organisation(
    client: FlaskClient, db_session: Session, clock: FrozenClock, cross: Cross
) -> None:
    mine = cross.world.headers(cross.world.reporter)
    body = client.get(f"{URL}/{cross.survivor.reference}", headers=mine).get_json()
    assert {o["value"] for o in body["observables"]} >= {"webmail-interieur.com"}
    assert not {o["value"] for o in body["observables"]} & set(cross.secrets("duplicate"))
    assert body["merged_into"] is None
    # a new report with a value only Health reported is no duplicate of the survivor to Interior
    again = client.post(
        URL,
        json={**SURVIVOR, "category": "fraud", "type": "phishing", "impact": "low",
              "urgency": "low", "description": "Encore sante-exfil[.]example"},
        headers=mine,
    )  # fmt: skip
    assert again.status_code == 201 and again.get_json()["possible_duplicates"] == []


def test_closing_mail_names_nothing_of_the_other_organisation(
    db_session: Session, clock: FrozenClock, cross: Cross
) -> None:
    lead, survivor = Actor.for_user(cross.world.lead), cross.survivor
    for status in ("resolved", "closed"):
        workflow.change_status(
            db_session, lead, survivor, status, clock=clock, settings=SETTINGS, resolution="ok",
            assignee=cross.world.lead,
        )  # fmt: skip
    db_session.flush()
    mails = [m for m in outbox(db_session, survivor) if m.to_addr == cross.world.reporter.email]
    assert len(mails) == 2  # acknowledgement, closing
    for mail in mails:
        content = "\n".join(part or "" for part in rendered(mail))
        assert [s for s in cross.secrets("duplicate") if s in content] == []


# ---------------------------------------------------------------- TLP:RED references
def test_timeline_and_file_hide_a_linked_red_reference_from_analysts(
    client: FlaskClient, db_session: Session, clock: FrozenClock, cross: Cross
) -> None:
    red, path = cross.red, f"{URL}/{cross.survivor.reference}/timeline"
    seen = client.get(path, headers=cross.world.headers(cross.world.analyst)).get_json()
    [linked] = [e for e in seen["items"] if e["kind"] == "linked"]
    assert linked["data"] == {"hidden": ["reference"]}
    assert red.reference not in str(seen)
    lead = client.get(path, headers=cross.world.headers(cross.world.lead)).get_json()
    assert [e["data"] for e in lead["items"] if e["kind"] == "linked"] == [
        {"reference": red.reference}
    ]


def test_the_file_says_linked_to_an_incident_you_cannot_see(
    client: FlaskClient, cross: Cross
) -> None:
    login(client, cross.world.analyst.email, PASSWORD)
    html = text(client.get(f"/incidents/{cross.survivor.reference}?lang=en"))
    assert "Linked to an incident you cannot see" in html
    assert cross.red.reference not in html


def test_possible_duplicates_name_only_incidents_the_caller_may_see(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    red = report(db_session, clock, world.reporter, tlp="TLP:RED")
    amber = report(db_session, clock, world.reporter, tlp="TLP:AMBER")
    assert amber.possible_duplicates == [red.reference]  # the same observables
    analyst, lead = world.headers(world.analyst), world.headers(world.lead)
    seen = client.get(f"{URL}/{amber.reference}", headers=analyst).get_json()
    assert seen["possible_duplicates"] == []
    listed = client.get(URL, headers=analyst).get_json()["items"]
    assert all(red.reference not in i["possible_duplicates"] for i in listed)
    assert red.reference not in str(listed)
    led = client.get(f"{URL}/{amber.reference}", headers=lead).get_json()
    assert led["possible_duplicates"] == [red.reference]
    # an analyst reporting for the ministry is not told of it either
    body = {**PHISHING, "organisation": world.interieur.slug}
    created = client.post(URL, json=body, headers=analyst)
    assert created.status_code == 201 and red.reference not in text(created)
