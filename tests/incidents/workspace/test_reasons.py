"""Dangerous status changes ask why (issue 17): ``rejected`` and ``duplicate`` need a reason the
reporter reads, ``duplicate`` the original's reference, resolving an owner — in the service and
the REST API, with an error naming the field and nothing written when one is missing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.errors import ValidationFailed
from incidents.models import Incident, IncidentEvent, IncidentStatus
from incidents.workspace import merge, workflow
from tests.incidents.file_helpers import act
from tests.kit.api import envelope
from tests.kit.factories import SETTINGS, report
from tests.kit.web import sign_in, text
from tests.kit.world import World

URL = "/api/v1/incidents"


def counts(session: Session) -> tuple[int, int]:
    session.flush()
    events = session.scalar(select(func.count()).select_from(IncidentEvent))
    audits = session.scalar(select(func.count()).select_from(AuditEntry))
    return int(events or 0), int(audits or 0)


def refused(
    session: Session, world: World, incident: Incident, to: str, clock: FrozenClock, **kw: Any
) -> dict[str, str]:
    """The fields of the refusal; the incident and the records unchanged."""
    actor = world.actor(world.analyst)  # (creating the analyst is audited: before counting)
    before, status = counts(session), incident.status
    with pytest.raises(ValidationFailed) as caught:
        workflow.change_status(session, actor, incident, to, clock=clock, settings=SETTINGS, **kw)
    assert incident.status == status and incident.duplicate_of_id is None
    assert incident.assignee_id is None or "assignee" not in kw
    assert counts(session) == before
    return caught.value.fields


def test_rejecting_needs_a_reason_recorded_as_public(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    for empty in (None, "", "   "):
        assert refused(db_session, world, incident, "rejected", clock, reason=empty) == {
            "reason": "required"
        }
    event = workflow.change_status(
        db_session, world.actor(world.analyst), incident, "rejected", clock=clock,
        settings=SETTINGS, reason=" Simple panne électrique, pas un incident de sécurité ",
    )  # fmt: skip
    assert incident.status == IncidentStatus.REJECTED
    assert event.data["reason"] == "Simple panne électrique, pas un incident de sécurité"
    assert workflow.public_reason("status", event.data) == event.data["reason"]
    # other reasons stay internal
    reopened = workflow.change_status(
        db_session, world.actor(world.analyst), incident, "triaged", clock=clock,
        settings=SETTINGS, reason="internal: the lead asked",
    )  # fmt: skip
    assert workflow.public_reason("status", reopened.data) is None


def test_a_duplicate_needs_a_reason_and_a_valid_original(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    original = report(db_session, clock, world.reporter)
    red = report(db_session, clock, world.reporter, tlp="TLP:RED")  # the analyst cannot see it
    already = report(db_session, clock, world.reporter)
    merge.merge(
        db_session, world.actor(world.lead), original, already, clock=clock, settings=SETTINGS
    )
    why = "Même hameçonnage que le signalement d'hier"
    missing = refused(
        db_session, world, incident, "duplicate", clock, duplicate_of=original.reference
    )
    assert missing == {"reason": "required"}
    assert refused(db_session, world, incident, "duplicate", clock, reason=why) == {
        "duplicate_of": "give the reference of the original incident"
    }
    cases = {
        "MACERT-2099-999999": "no such incident MACERT-2099-999999",
        red.reference: f"no such incident {red.reference}",  # not "you may not see it"
        incident.reference: "an incident cannot duplicate itself",
        already.reference: f"{already.reference} is itself a duplicate: give its original",
    }
    for reference, problem in cases.items():
        fields = refused(
            db_session, world, incident, "duplicate", clock, reason=why, duplicate_of=reference
        )
        assert fields == {"duplicate_of": problem}
    event = workflow.change_status(
        db_session, world.actor(world.analyst), incident, "duplicate", clock=clock,
        settings=SETTINGS, reason=why, duplicate_of=original.reference.lower(),
    )  # fmt: skip
    assert incident.status == IncidentStatus.DUPLICATE
    assert incident.duplicate_of_id == original.id
    assert event.data["duplicate_of"] == original.reference and event.data["reason"] == why
    # no loop: the original cannot now become a duplicate of its duplicate
    fields = refused(
        db_session, world, original, "duplicate", clock, reason=why,
        duplicate_of=incident.reference,
    )  # fmt: skip
    assert fields == {
        "duplicate_of": f"{incident.reference} is itself a duplicate: give its original"
    }


def test_resolving_an_unassigned_incident_needs_an_owner(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    analyst = world.actor(world.analyst)
    workflow.change_status(db_session, analyst, incident, "triaged", clock=clock, settings=SETTINGS)
    assert refused(db_session, world, incident, "resolved", clock, resolution="Done") == {
        "assignee": "an unassigned incident needs an owner to be resolved"
    }
    reporter_as_owner = refused(
        db_session, world, incident, "resolved", clock, resolution="Done", assignee=world.reporter
    )
    assert set(reporter_as_owner) == {"assignee"}  # an owner is active CERT staff
    workflow.change_status(
        db_session, analyst, incident, "resolved", clock=clock, settings=SETTINGS,
        resolution="Done", assignee=world.analyst2,
    )  # fmt: skip
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.assignee_id == world.analyst2.id
    kinds = list(
        db_session.scalars(
            select(IncidentEvent.kind)
            .where(IncidentEvent.incident_id == incident.id)
            .order_by(IncidentEvent.id)
        )
    )
    assert kinds[-2:] == ["assignment", "status"]  # assigned, then resolved


def test_the_api_asks_the_same(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    original = report(db_session, clock, world.reporter)
    headers = world.headers(world.analyst)
    path = f"{URL}/{incident.reference}/status"
    error = envelope(client.post(path, json={"status": "rejected"}, headers=headers), 422)
    assert error["fields"] == {"reason": "required"}
    body = {"status": "duplicate", "reason": "Déjà signalé"}
    error = envelope(client.post(path, json=body, headers=headers), 422)
    assert set(error["fields"]) == {"duplicate_of"}
    db_session.expire_all()
    assert db_session.get(Incident, incident.id).status == IncidentStatus.NEW  # type: ignore[union-attr]
    ok = client.post(path, json={**body, "duplicate_of": original.reference}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["status"] == "duplicate"
    # the reporter reads the reason and the original of its own organisation in the timeline
    mine = world.headers(world.reporter)
    timeline = client.get(f"{URL}/{incident.reference}/timeline", headers=mine).get_json()
    [status] = [e for e in timeline["items"] if e["kind"] == "status"]
    assert status["data"] == {
        "from": "new", "to": "duplicate", "reason": "Déjà signalé",
        "duplicate_of": original.reference,
    }  # fmt: skip
    spec = client.get("/api/v1/openapi.json").get_json()
    fields = spec["components"]["schemas"]["StatusChange"]["properties"]
    assert {"reason", "duplicate_of", "assignee"} <= set(fields)


def _invalid(html: str, field_id: str) -> bool:
    tag = re.search(rf'<(?:input|select|textarea)[^>]*id="{field_id}"[^>]*>', html)
    return bool(tag and "is-invalid" in tag.group(0))


def test_the_file_form_asks_the_reason_the_original_and_the_owner(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    original = report(db_session, clock, world.reporter)
    db_session.commit()
    sign_in(client, world.analyst)
    ref = incident.reference
    page = text(client.get(f"/incidents/{ref}"))
    assert 'id="status-duplicate_of"' in page  # new → duplicate is possible
    assert 'id="status-owner"' not in page  # new → resolved is not
    response = act(client, ref, "status", "status", to="duplicate")
    html = text(response)
    assert response.status_code == 422
    assert _invalid(html, "status-reason") and _invalid(html, "status-duplicate_of")
    response = act(client, ref, "status", "status", to="rejected", reason=" ")
    assert response.status_code == 422 and _invalid(text(response), "status-reason")
    db_session.expire_all()
    assert db_session.get(Incident, incident.id).status == IncidentStatus.NEW  # type: ignore[union-attr]
    act(client, ref, "status", "status", to="triaged")
    page = text(client.get(f"/incidents/{ref}"))
    assert 'id="status-owner"' in page  # unassigned, and resolving is possible
    response = act(client, ref, "status", "status", to="resolved", resolution="Bloqué")
    assert response.status_code == 422 and _invalid(text(response), "status-owner")
    response = act(
        client, ref, "status", "status", to="resolved", resolution="Bloqué",
        owner=str(world.analyst2.id),
    )  # fmt: skip
    assert response.status_code == 302
    db_session.expire_all()
    done = db_session.get(Incident, incident.id)
    assert done is not None and done.status == IncidentStatus.RESOLVED
    assert done.assignee_id == world.analyst2.id
    assert original.status == IncidentStatus.NEW
