"""Transfers and shares through the REST API (issue 22), on both databases: a transfer moves the
incident (the finance analyst then sees it, the health analyst no longer does unless named on
it), the timeline tells it to the CERT and never to the reporter; a read share lets the other
centre see but not act, a work share lets it act, taking it back hides it again; bad input is a
422 naming the field with nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.events.store import DomainEvent
from core.identity.models import User
from incidents.models import Incident, IncidentEvent, IncidentParticipant, IncidentShare
from tests.incidents.centres.route_scene import Centres, make_member
from tests.kit.api import envelope
from tests.kit.web import sign_in, text

URL = "/api/v1/incidents"


def written(session: Session, incident: Incident) -> tuple[int, int, int, int, int]:
    """What a change writes: (centre id, timeline events, audit rows, domain events, shares)."""
    session.expire_all()
    ref = incident.reference
    row = session.get(Incident, incident.id)
    assert row is not None
    return (
        row.centre_id,
        session.scalar(select(func.count()).where(IncidentEvent.incident_id == incident.id)) or 0,
        session.scalar(select(func.count()).where(AuditEntry.object_id == ref)) or 0,
        session.scalar(select(func.count()).where(DomainEvent.aggregate_id == ref)) or 0,
        session.scalar(select(func.count()).where(IncidentShare.incident_id == incident.id)) or 0,
    )


def post(client: FlaskClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(f"{URL}/{path}", json=body, headers=headers)


def test_a_transfer_moves_the_incident_to_the_other_centre(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    world, ref = centres.world, incident.reference
    nadia, omar = world.headers(centres.nadia), world.headers(centres.omar)
    assert client.get(f"{URL}/{ref}", headers=omar).status_code == 404
    body = {"centre": "finance", "reason": "Fraude au virement : compétence du centre finances"}
    response = post(client, f"{ref}/transfer", body, nadia)
    assert response.status_code == 200, response.json
    assert (response.json["centre"], response.json["shares"]) == ("finance", [])
    # the finance analyst sees it now; the health analyst, who had it through her centre, not
    assert client.get(f"{URL}/{ref}", headers=omar).status_code == 200
    assert client.get(f"{URL}/{ref}", headers=nadia).status_code == 404
    assert client.get(f"{URL}/{ref}/timeline", headers=nadia).status_code == 404
    # the national centre's lead sees the transfer on the timeline, with its reason
    events = client.get(f"{URL}/{ref}/timeline", headers=world.headers(world.lead)).json["items"]
    [moved] = [e for e in events if e["kind"] == "transferred"]
    assert moved["data"] == {"from": "sante", "to": "finance", "reason": body["reason"]}
    assert moved["public"] is False and moved["actor"] == "nadia@cert.gov.ma"
    # audited, and the durable event carries ids only
    db_session.expire_all()
    audit = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "incident.transfer")
    ).one()
    assert (audit.object_id, audit.before) == (ref, {"centre": "sante"})
    event = db_session.scalars(
        select(DomainEvent).where(DomainEvent.name == "incident.transferred")
    ).one()
    timeline_id = db_session.scalar(
        select(IncidentEvent.id).where(IncidentEvent.kind == "transferred")
    )
    assert event.payload == {
        "incident_id": incident.id,
        "reference": ref,
        "timeline_event_id": timeline_id,
        "from_centre_id": centres.sante.id,
        "to_centre_id": centres.finance.id,
    }


def test_the_assignee_and_participants_keep_it_after_a_transfer(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    world = centres.world
    colleague = build_colleague(centres)
    incident.assignee_id = centres.nadia.id
    db_session.add(
        IncidentParticipant(
            incident_id=incident.id, user_id=colleague.id, added_at=world.clock.now()
        )
    )
    db_session.commit()
    body = {"centre": "finance", "reason": "Compétence finances"}
    response = post(client, f"{incident.reference}/transfer", body, world.headers(centres.nadia))
    assert response.status_code == 200
    for user in (centres.nadia, colleague):
        assert (
            client.get(f"{URL}/{incident.reference}", headers=world.headers(user)).status_code
            == 200
        )


def build_colleague(centres: Centres) -> User:
    return make_member(
        centres.world.session, centres.world, centres.sante, "salma@cert.gov.ma", "Salma Santé"
    )


def test_the_reporter_never_reads_a_transfer_or_a_share(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    world, ref = centres.world, incident.reference
    nadia = world.headers(centres.nadia)
    secret = "Soupçon de complicité interne au ministère"
    shared = {"centre": "finance", "mode": "read", "reason": secret}
    assert post(client, f"{ref}/shares", shared, nadia).status_code == 200
    moved = {"centre": "finance", "reason": secret}
    assert post(client, f"{ref}/transfer", moved, nadia).status_code == 200
    reporter = world.headers(world.other_reporter)
    answer = client.get(f"{URL}/{ref}", headers=reporter)
    assert answer.status_code == 200
    assert answer.json["centre"] is None and answer.json["shares"] is None
    timeline = client.get(f"{URL}/{ref}/timeline", headers=reporter)
    assert {e["kind"] for e in timeline.json["items"]} == {"created"}
    assert secret not in timeline.get_data(as_text=True)
    sign_in(client, world.other_reporter)
    page = text(client.get(f"/track/{ref}"))
    assert ref in page and secret not in page and "finance" not in page.lower()


def test_a_read_share_shows_it_to_the_other_centre_which_may_not_act(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    world, ref = centres.world, incident.reference
    nadia, omar = world.headers(centres.nadia), world.headers(centres.omar)
    body = {"centre": "finance", "mode": "read", "reason": "Enquête conjointe"}
    response = post(client, f"{ref}/shares", body, nadia)
    assert response.status_code == 200
    assert response.json["shares"] == [{"centre": "finance", "mode": "read"}]
    assert client.get(f"{URL}/{ref}", headers=omar).status_code == 200
    assert client.get(f"{URL}/{ref}/timeline", headers=omar).status_code == 200
    before = written(db_session, incident)
    refused = post(client, f"{ref}/transfer", {"centre": "finance", "reason": "À nous"}, omar)
    assert envelope(refused, 403)
    again = {"centre": "finance", "mode": "work", "reason": "Je m'en charge"}
    assert envelope(post(client, f"{ref}/shares", again, omar), 403)
    assert envelope(client.delete(f"{URL}/{ref}/shares/finance", headers=omar), 403)
    assert written(db_session, incident) == before


def test_a_work_share_lets_the_other_centre_act_and_taking_it_back_hides_it(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    world, ref = centres.world, incident.reference
    nadia, omar = world.headers(centres.nadia), world.headers(centres.omar)
    post(client, f"{ref}/shares", {"centre": "finance", "mode": "read", "reason": "Lecture"}, nadia)
    body = {"centre": "finance", "mode": "work", "reason": "Investigation conjointe"}
    response = post(client, f"{ref}/shares", body, nadia)  # the same centre: the mode changes
    assert response.json["shares"] == [{"centre": "finance", "mode": "work"}]
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(IncidentShare)) == 1
    # the finance analyst now works it: they share it on with the national centre
    onward = {"centre": "national", "mode": "read", "reason": "Pour information"}
    response = post(client, f"{ref}/shares", onward, omar)
    assert response.status_code == 200, response.json
    assert response.json["shares"] == [
        {"centre": "finance", "mode": "work"},
        {"centre": "national", "mode": "read"},
    ]
    # taken back: the finance analyst no longer sees it
    response = client.delete(f"{URL}/{ref}/shares/finance", headers=nadia)
    assert response.status_code == 200
    assert response.json["shares"] == [{"centre": "national", "mode": "read"}]
    assert client.get(f"{URL}/{ref}", headers=omar).status_code == 404
    kinds = [
        (e["kind"], e["data"])
        for e in client.get(f"{URL}/{ref}/timeline", headers=nadia).json["items"]
    ]
    assert kinds[:2] == [
        ("unshared", {"centre": "finance"}),
        ("shared", {"centre": "national", "mode": "read", "reason": "Pour information"}),
    ]
    db_session.expire_all()
    names = list(db_session.scalars(select(DomainEvent.name).order_by(DomainEvent.id)))
    assert names.count("incident.shared") == 3 and names[-1] == "incident.unshared"
    shared = db_session.scalars(
        select(DomainEvent).where(DomainEvent.name == "incident.shared").order_by(DomainEvent.id)
    ).first()
    assert shared is not None
    assert (shared.payload["centre_id"], shared.payload["mode"]) == (centres.finance.id, "read")


def test_a_transfer_to_a_centre_it_is_shared_with_drops_that_share(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    world, ref = centres.world, incident.reference
    nadia = world.headers(centres.nadia)
    post(client, f"{ref}/shares", {"centre": "finance", "mode": "read", "reason": "Lecture"}, nadia)
    post(client, f"{ref}/shares", {"centre": "national", "mode": "work", "reason": "Appui"}, nadia)
    response = post(client, f"{ref}/transfer", {"centre": "finance", "reason": "Compétence"}, nadia)
    assert response.status_code == 200
    assert response.json["centre"] == "finance"
    assert response.json["shares"] == [{"centre": "national", "mode": "work"}]  # kept


LONG = "x" * 2001


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("transfer", {"centre": "energie", "reason": "Motif"}, "centre"),
        ("transfer", {"centre": "sante", "reason": "Motif"}, "centre"),  # its own centre
        ("transfer", {"centre": "SANTE ", "reason": "Motif"}, "centre"),
        ("transfer", {"centre": "finance", "reason": "   "}, "reason"),
        ("transfer", {"centre": "finance", "reason": "a\u0000b"}, "reason"),
        ("transfer", {"centre": "finance", "reason": LONG}, "reason"),
        ("transfer", {"centre": "x" * 65, "reason": "Motif"}, "centre"),
        ("transfer", {"centre": "fin\u0000ance", "reason": "Motif"}, "centre"),
        ("transfer", {"reason": "Motif"}, "centre"),
        ("shares", {"centre": "energie", "mode": "read", "reason": "Motif"}, "centre"),
        ("shares", {"centre": "sante", "mode": "read", "reason": "Motif"}, "centre"),
        ("shares", {"centre": "finance", "mode": "admin", "reason": "Motif"}, "mode"),
        ("shares", {"centre": "finance", "mode": "read", "reason": ""}, "reason"),
        ("shares", {"centre": "finance", "mode": "read", "reason": LONG}, "reason"),
        ("shares", {"centre": "finance", "mode": "read", "reason": "\u0000"}, "reason"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_nothing_is_written(
    client: FlaskClient,
    db_session: Session,
    centres: Centres,
    incident: Incident,
    path: str,
    body: dict[str, str],
    field: str,
) -> None:
    before = written(db_session, incident)
    response = post(
        client, f"{incident.reference}/{path}", body, centres.world.headers(centres.nadia)
    )
    error = envelope(response, 422)
    assert field in error["fields"], error
    assert written(db_session, incident) == before


def test_taking_back_a_share_that_is_not_there_names_the_centre(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    nadia = centres.world.headers(centres.nadia)
    before = written(db_session, incident)
    for slug in ("finance", "energie"):
        response = client.delete(f"{URL}/{incident.reference}/shares/{slug}", headers=nadia)
        assert set(envelope(response, 422)["fields"]) == {"centre"}
    assert written(db_session, incident) == before


def test_who_may_not_see_it_gets_404_before_any_validation_and_reporters_403(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    world, ref = centres.world, incident.reference
    omar = world.headers(centres.omar)
    before = written(db_session, incident)
    for path, body in (
        ("transfer", {"centre": "finance", "reason": "À nous"}),
        ("transfer", {"centre": "nope"}),
        ("shares", {"centre": "finance", "mode": "work", "reason": "À nous"}),
    ):
        assert envelope(post(client, f"{ref}/{path}", body, omar), 404)
    assert envelope(client.delete(f"{URL}/{ref}/shares/finance", headers=omar), 404)
    reporter = world.headers(world.other_reporter)
    moved = {"centre": "finance", "reason": "x"}
    assert envelope(post(client, f"{ref}/transfer", moved, reporter), 403)
    assert envelope(client.delete(f"{URL}/{ref}/shares/finance", headers=reporter), 403)
    # another organisation's reporter: not even its existence
    other = world.headers(world.reporter)
    assert envelope(post(client, f"{ref}/transfer", moved, other), 404)
    assert written(db_session, incident) == before
