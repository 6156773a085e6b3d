"""Routing on arrival (issue 22), on both databases: an incident lands in the centre chosen by
``core.identity.centres.route`` — a centre naming the organisation, then its sector, then its
region, a centre specialised in the incident's RSIT class before one that is not at the same
level, the national centre last — whichever way it arrives: the report form, the REST API, the
CERT mailbox."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.centres import Centre
from incidents.mailbox.models import MailStatus
from incidents.models import Incident
from tests.incidents.centres.route_scene import Centres, make_centre
from tests.incidents.mailbox.conftest import Mailbox, mail_settings
from tests.kit.factories import INFECTED_HOST, MINIMAL, make_org, report
from tests.kit.mail import authentication_results, message, raw
from tests.kit.web import csrf_token, sign_in, text
from tests.kit.world import World


def centre_of(session: Session, reference: str) -> Centre:
    session.expire_all()
    incident = session.scalar(select(Incident).where(Incident.reference == reference))
    assert incident is not None
    return incident.centre


# ---------------------------------------------------------------- the rule, through intake
def test_a_health_ministry_report_lands_in_the_health_centre(
    db_session: Session, clock: FrozenClock, centres: Centres, world: World
) -> None:
    health = centres.health_report()
    assert health.centre_id == centres.sante.id
    other = report(db_session, clock, world.reporter)  # Interior: sector government
    assert other.centre_id == centres.national.id


def test_a_centre_naming_the_organisation_beats_the_sector_centre(
    db_session: Session, clock: FrozenClock, centres: Centres, world: World
) -> None:
    named = make_centre(db_session, clock, "hopitaux", organisations=[world.sante])
    assert centres.health_report().centre_id == named.id
    # an organisation it does not name, of the same sector, still goes to the sector centre
    clinic = make_org(db_session, clock, slug="chu-rabat", sector="health")
    assert report(db_session, clock, clinic).centre_id == centres.sante.id


def test_a_region_centre_takes_what_no_organisation_or_sector_centre_claims(
    db_session: Session, clock: FrozenClock, centres: Centres
) -> None:
    oriental = make_centre(db_session, clock, "oriental", regions=["oriental"])
    commune = make_org(db_session, clock, slug="commune-oujda", sector="local-government")
    commune.region = "oriental"
    db_session.flush()
    assert report(db_session, clock, commune).centre_id == oriental.id
    # a health organisation of that region: its sector is more specific than its region
    hospital = make_org(db_session, clock, slug="chr-oujda", sector="health")
    hospital.region = "oriental"
    db_session.flush()
    assert report(db_session, clock, hospital).centre_id == centres.sante.id


def test_a_class_specialist_comes_before_a_non_specialist_at_the_same_level(
    db_session: Session, clock: FrozenClock, centres: Centres
) -> None:
    malware = make_centre(
        db_session, clock, "sante-malware", sectors=["health"], categories=["malicious-code"]
    )
    # at the sector level both take it: the one specialised in the class wins
    assert centres.health_report(**INFECTED_HOST).centre_id == malware.id
    # another class: the specialist does not take it at all
    assert centres.health_report().centre_id == centres.sante.id  # fraud/phishing


def test_a_specialist_without_constituency_does_not_beat_a_constituency_match(
    db_session: Session, clock: FrozenClock, centres: Centres, world: World
) -> None:
    everywhere = make_centre(db_session, clock, "malware", categories=["malicious-code"])
    # the sector centre matches the constituency: it wins over a class-only centre
    assert centres.health_report(**INFECTED_HOST).centre_id == centres.sante.id
    # no constituency matches (Interior): the class specialist takes it before the national one
    assert report(db_session, clock, world.reporter, INFECTED_HOST).centre_id == everywhere.id
    assert report(db_session, clock, world.reporter, MINIMAL).centre_id == centres.national.id


def test_the_national_centre_is_last(
    db_session: Session, clock: FrozenClock, centres: Centres
) -> None:
    lone = make_org(db_session, clock, slug="agence-x", sector="energy")
    lone.region = "souss"
    db_session.flush()
    assert report(db_session, clock, lone).centre_id == centres.national.id


# ---------------------------------------------------------------- the entry points
FORM = {
    "title": "Rançongiciel sur le poste d'un service",
    "description": "Des fichiers chiffrés sur un poste du service des urgences.",
    "classification": "malicious-code/infected-system",
    "impact": "high",
    "urgency": "high",
    "tlp": "TLP:AMBER",
    "pap": "PAP:AMBER",
}


def test_the_report_form_routes_to_the_health_centre(
    client: FlaskClient, db_session: Session, centres: Centres, world: World
) -> None:
    sign_in(client, world.other_reporter)
    token = csrf_token(text(client.get("/incidents/new")))
    response = client.post("/incidents/new", data={**FORM, "csrf_token": token})
    assert response.status_code == 302, text(response)
    [incident] = db_session.scalars(
        select(Incident).where(Incident.organisation_id == world.sante.id)
    )
    assert centre_of(db_session, incident.reference).id == centres.sante.id


def test_the_api_routes_to_the_health_centre_and_tells_staff_not_reporters(
    client: FlaskClient, db_session: Session, centres: Centres, world: World
) -> None:
    body = {
        "title": "Rançongiciel sur un poste",
        "description": "Fichiers chiffrés.",
        "category": "malicious-code",
        "type": "infected-system",
    }
    response = client.post(
        "/api/v1/incidents", json=body, headers=world.headers(world.other_reporter)
    )
    assert response.status_code == 201, response.json
    reference = response.json["reference"]
    assert centre_of(db_session, reference).id == centres.sante.id
    # the reporter's answer names no centre; the CERT's does
    assert response.json["centre"] is None and response.json["shares"] is None
    staff = client.get(f"/api/v1/incidents/{reference}", headers=world.headers(centres.nadia))
    assert staff.status_code == 200
    assert (staff.json["centre"], staff.json["shares"]) == ("sante", [])


def test_a_report_by_mail_routes_to_the_health_centre(
    db_session: Session, clock: FrozenClock, centres: Centres, world: World, tmp_path: Path
) -> None:
    world.sante.contact_emails = ["soc@sante.gov.ma"]
    db_session.flush()
    mailbox = Mailbox(world, db_session, clock, mail_settings(tmp_path))
    sent = message(
        sender="soc@sante.gov.ma", subject="Poste infecté aux urgences",
        auth=authentication_results(),
    )  # fmt: skip
    received = mailbox.receive(raw(sent))
    assert received.status is MailStatus.INCIDENT, received
    assert received.incident_reference is not None
    assert centre_of(db_session, received.incident_reference).id == centres.sante.id


def test_api_answers_of_a_list_name_each_centre_and_share(
    client: FlaskClient, db_session: Session, centres: Centres, world: World
) -> None:
    centres.health_report()
    report(db_session, world.clock, world.reporter)
    response = client.get("/api/v1/incidents", headers=world.headers(world.lead))
    assert response.status_code == 200
    assert sorted(i["centre"] for i in response.json["items"]) == ["national", "sante"]
    mine = client.get("/api/v1/incidents", headers=world.headers(world.reporter))
    assert [i["centre"] for i in mine.json["items"]] == [None]


def test_an_analyst_recording_for_another_centre_is_named_on_it_and_keeps_seeing_it(
    client: FlaskClient, db_session: Session, centres: Centres, world: World
) -> None:
    """Omar (finance) records a report of the Health ministry: it goes to the health centre, and
    Omar becomes a named participant (timeline, audit) so that what he recorded does not vanish;
    Nadia (health) recording the same kind of report is not named (she sees it anyway), nor is
    Omar for a TLP:RED one (it stays with its assignee, participants and leads, as before)."""
    body = {
        "title": "Hameçonnage signalé par téléphone",
        "description": "Appel du ministère de la Santé.",
        "category": "fraud",
        "type": "phishing",
        "organisation": world.sante.slug,
        "tlp": "TLP:AMBER",
    }
    omar, nadia = world.headers(centres.omar), world.headers(centres.nadia)

    def recorded_by(headers: dict[str, str], **changes: str) -> Incident:
        answer = client.post("/api/v1/incidents", json={**body, **changes}, headers=headers)
        assert answer.status_code == 201, answer.json
        found = db_session.scalar(
            select(Incident).where(Incident.reference == answer.json["reference"])
        )
        assert found is not None and found.centre_id == centres.sante.id
        return found

    incident = recorded_by(omar)
    reference = incident.reference
    assert client.get(f"/api/v1/incidents/{reference}", headers=omar).status_code == 200
    assert [p.user_id for p in incident.participants] == [centres.omar.id]
    events = client.get(f"/api/v1/incidents/{reference}/timeline", headers=omar).json
    named = {"added": centres.omar.email}
    assert any(e["kind"] == "participant" and e["data"] == named for e in events["items"])
    assert recorded_by(nadia).participants == []
    red = recorded_by(omar, tlp="TLP:RED")
    assert red.participants == []
    assert client.get(f"/api/v1/incidents/{red.reference}", headers=omar).status_code == 404
