"""The workspace routes of /api/v1: each route for each role (TLP:RED included), the reporter's
view of the timeline, and the happy paths."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from incidents.models import Incident, IncidentStatus
from incidents.workspace import conversation, tasks
from tests.incidents.workspace_helpers import outbox
from tests.kit.api import envelope
from tests.kit.factories import report
from tests.kit.world import World

URL = "/api/v1/incidents"


def routes(
    incident: Incident, other: Incident, task_id: int, assignee: str
) -> list[tuple[str, str, Any]]:
    """(method, path, body) of every workspace route, each a valid request (``assignee``: an
    e-mail)."""
    base = f"{URL}/{incident.reference}"
    return [
        ("post", f"{base}/status", {"status": "triaged"}),
        ("post", f"{base}/assign", {"assignee": assignee}),
        ("post", f"{base}/priority", {"priority": "P1", "reason": "ransomware"}),
        ("post", f"{base}/comments", {"body": "note"}),
        ("post", f"{base}/replies", {"body": "hello"}),
        ("get", f"{base}/timeline", None),
        ("get", f"{base}/tasks", None),
        ("post", f"{base}/tasks", {"title": "Block"}),
        ("post", f"{base}/tasks/templates", {}),
        ("post", f"{base}/tasks/{task_id}", {"done": True}),
        ("get", f"{base}/links", None),
        ("post", f"{base}/links", {"reference": other.reference}),
        ("post", f"{base}/merge", {"into": other.reference}),
    ]


@pytest.fixture
def red(db_session: Session, clock: FrozenClock, world: World) -> tuple[Incident, Incident, int]:
    """A TLP:RED incident assigned to the analyst, a RED survivor, and a task of the first."""
    incident = report(db_session, clock, world.reporter, tlp="TLP:RED")
    survivor = report(db_session, clock, world.reporter, tlp="TLP:RED")
    for item in (incident, survivor):
        item.assignee_id = world.analyst.id
    task = tasks.add_task(db_session, world.actor(world.lead), incident, "Isolate", clock=clock)
    db_session.flush()
    return incident, survivor, task.id


def call(client: FlaskClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    if method == "get":
        return client.get(path, headers=headers)
    return client.post(path, json=body, headers=headers)


@pytest.mark.parametrize("index", range(13))
def test_red_routes_are_404_to_outsiders_and_refused_to_its_reporters(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    world: World,
    red: tuple[Incident, Incident, int],
    index: int,
) -> None:
    method, path, body = routes(*red, world.analyst2.email)[index]
    outsider = call(client, method, path, body, world.headers(world.analyst2))
    envelope(outsider, 404, "not_found")
    stranger = call(client, method, path, body, world.headers(world.other_reporter))
    envelope(stranger, 404, "not_found")
    own = call(client, method, path, body, world.headers(world.reporter))
    if path.endswith(("/replies", "/timeline")):
        assert own.status_code in {200, 201}, own.get_data(as_text=True)  # the reporter's side
    else:
        envelope(own, 403, "forbidden")


@pytest.mark.parametrize("who", ["analyst", "lead"])
@pytest.mark.parametrize("index", range(13))
def test_red_routes_work_for_the_assignee_and_leads(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    world: World,
    red: tuple[Incident, Incident, int],
    index: int,
    who: str,
) -> None:
    method, path, body = routes(*red, world.analyst2.email)[index]
    response = call(client, method, path, body, world.headers(getattr(world, who)))
    assert response.status_code in {200, 201}, response.get_data(as_text=True)


def test_status_changes_answer_the_incident_and_explain_refusals(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    headers = world.headers(world.analyst)
    path = f"{URL}/{incident.reference}/status"
    error = envelope(client.post(path, json={"status": "closed"}, headers=headers), 422)
    assert error["fields"] == {"status": "cannot go from new to closed"}
    error = envelope(client.post(path, json={"status": "nope"}, headers=headers), 422)
    assert "status" in error["fields"]
    body = client.post(path, json={"status": "triaged"}, headers=headers).get_json()
    assert body["reference"] == incident.reference and body["status"] == "triaged"
    error = envelope(client.post(path, json={"status": "resolved"}, headers=headers), 422)
    owner_needed = "an unassigned incident needs an owner to be resolved"
    assert error["fields"] == {"resolution": "required", "assignee": owner_needed}  # all at once
    resolve = {"status": "resolved", "resolution": "Done"}
    error = envelope(client.post(path, json=resolve, headers=headers), 422)  # nobody owns it
    assert error["fields"] == {"assignee": owner_needed}
    owner = {**resolve, "assignee": world.analyst.email}
    ok = client.post(path, json=owner, headers=headers)
    db_session.refresh(incident)
    assert ok.status_code == 200 and incident.status == IncidentStatus.RESOLVED
    assert incident.assignee_id == world.analyst.id  # assigned, then resolved


def test_assign_priority_and_unknown_users(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    headers = world.headers(world.lead)
    base = f"{URL}/{incident.reference}"
    error = envelope(
        client.post(f"{base}/assign", json={"assignee": "nobody@cert.ma"}, headers=headers), 422
    )
    assert set(error["fields"]) == {"assignee"}
    assert (
        client.post(f"{base}/assign", json={"assignee": None}, headers=headers).status_code == 200
    )
    response = client.post(f"{base}/priority", json={"priority": "P3"}, headers=headers)
    assert set(envelope(response, 422)["fields"]) == {"reason"}
    response = client.post(
        f"{base}/priority", json={"priority": "P1", "reason": "ministers"}, headers=headers
    )
    assert response.get_json()["priority"] == "P1"


def test_a_reporter_sees_replies_and_answers_but_no_comment_in_the_timeline(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    base = f"{URL}/{incident.reference}"
    staff, reporter = (
        world.headers(world.analyst),
        world.headers(world.reporter),
    )
    note = client.post(f"{base}/comments", json={"body": "SECRET"}, headers=staff)
    assert note.status_code == 201 and note.get_json()["public"] is False
    before = len(outbox(db_session, incident))
    sent = client.post(f"{base}/replies", json={"body": "<b>Hello</b>"}, headers=staff)
    assert sent.status_code == 201 and sent.get_json()["kind"] == "reply"
    assert len(outbox(db_session, incident)) == before + 1
    answer = client.post(f"{base}/replies", json={"body": "Thanks"}, headers=reporter)
    assert answer.status_code == 201 and answer.get_json()["kind"] == "reporter_reply"
    page = client.get(f"{base}/timeline", headers=reporter).get_json()
    assert set(page) == {"items", "total", "next"} and page["total"] == 3
    assert [(e["kind"], e["actor"]) for e in page["items"]] == [
        ("reporter_reply", world.reporter.email),
        ("reply", "CERT"),
        ("created", world.reporter.email),
    ]
    hello = "<p>&lt;b&gt;Hello&lt;/b&gt;</p>"  # Markdown: raw HTML is shown as text
    assert page["items"][1]["data"] == {"body": hello}  # no "to"
    assert "SECRET" not in str(page)
    staff_page = client.get(f"{base}/timeline?limit=2", headers=staff).get_json()
    assert staff_page["total"] == 4 and staff_page["next"].endswith("limit=2&offset=2")
    assert staff_page["items"][1]["data"] == {"body": hello, "to": world.reporter.email}
    world.reporter.name, world.analyst.name = "Amal Rapporteuse", "Amine Analyste"
    db_session.flush()
    page = client.get(f"{base}/timeline", headers=reporter).get_json()
    assert [e["actor_name"] for e in page["items"]] == [
        "Amal Rapporteuse",
        "CERT",
        "Amal Rapporteuse",
    ]
    staff_page = client.get(f"{base}/timeline", headers=staff).get_json()
    assert [(e["kind"], e["actor_name"]) for e in staff_page["items"]] == [
        ("reporter_reply", "Amal Rapporteuse"),
        ("reply", "Amine Analyste"),
        ("comment", "Amine Analyste"),
        ("created", "Amal Rapporteuse"),
    ]


def test_tasks_links_and_merge_through_the_api(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident, survivor = (
        report(db_session, clock, world.reporter),
        report(db_session, clock, world.reporter),
    )
    headers = world.headers(world.analyst)
    base = f"{URL}/{incident.reference}"
    made = client.post(
        f"{base}/tasks", json={"title": "Block", "assignee": world.analyst2.email}, headers=headers
    )
    assert made.status_code == 201 and made.get_json()["assignee"] == world.analyst2.email
    applied = client.post(f"{base}/tasks/templates", json={"locale": "en"}, headers=headers)
    assert len(applied.get_json()["items"]) == len(tasks.task_templates()["fraud"])
    task_id = made.get_json()["id"]
    done = client.post(f"{base}/tasks/{task_id}", json={"done": True}, headers=headers)
    assert done.get_json()["done"] is True
    envelope(client.post(f"{base}/tasks/999999", json={"done": True}, headers=headers), 404)
    listed = client.get(f"{base}/tasks", headers=headers).get_json()
    assert listed["items"][0]["title"] == "Block" and listed["total"] == 1 + len(
        applied.get_json()["items"]
    )
    linked = client.post(f"{base}/links", json={"reference": survivor.reference}, headers=headers)
    assert linked.status_code == 201 and linked.get_json()["linked"] == [survivor.reference]
    merged = client.post(f"{base}/merge", json={"into": survivor.reference}, headers=headers)
    assert merged.status_code == 200 and merged.get_json()["reference"] == survivor.reference
    db_session.refresh(incident)
    assert incident.status == IncidentStatus.DUPLICATE
    timeline = conversation.timeline(
        db_session, world.actor(world.analyst), survivor, public_only=False
    )
    assert "task_added" in {e.kind for e in timeline}
