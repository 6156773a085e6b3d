"""Each action form of the incident file through the client, on both backends: the change is
made and the file shown again (POST → redirect → GET), and invalid input is shown next to the
field that caused it, with nothing changed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import Role, User
from core.outbox import OutboxMessage
from incidents.models import Incident, IncidentEvent, IncidentParticipant, IncidentTask
from incidents.workspace import tasks
from tests.incidents.file_helpers import act
from tests.kit.factories import INFECTED_HOST, make_user, report
from tests.kit.web import sign_in, text


@pytest.fixture
def incident(db_session: Session, clock: FrozenClock, reporter: User) -> Incident:
    return report(db_session, clock, reporter, INFECTED_HOST)


def done(
    client: FlaskClient, response: object, incident: Incident, anchor: str, said: str | None = None
) -> None:
    """Redirected to the file at ``anchor``; the file then says what was done there (``said``)
    once, in a ``role="status"`` notice at the element ``anchor``, and not at the page top."""
    assert getattr(response, "status_code", None) == 302, text(response)  # type: ignore[arg-type]
    location = response.headers["Location"]  # type: ignore[attr-defined]
    assert location == f"/incidents/{incident.reference}#{anchor}"
    html = text(client.get(location))
    notices = re.findall(
        rf'<div class="alert alert-success vigie-notice[^"]*" role="status" data-place="{anchor}">'
        r"\s*<span[^>]*>✓</span>([^<]*)</div>",
        html,
    )
    assert len(notices) == 1, html
    assert html.index(f'id="{anchor}"') < html.index(f'data-place="{anchor}"')
    assert "vigie-flashes" not in html
    if said is not None:
        assert said in notices[0], notices


def field_error(html: str, field_id: str) -> str:
    """The error shown under field ``field_id`` (the field is marked invalid)."""
    tag = re.search(rf'<(?:input|select|textarea)[^>]*id="{field_id}"[^>]*>', html)
    assert tag and "is-invalid" in tag.group(0), field_id
    after = html[tag.end() :]
    match = re.search(r'<div class="invalid-feedback">([^<]+)</div>', after)
    assert match, field_id
    return match.group(1)


def kinds(session: Session, incident: Incident) -> list[str]:
    session.expire_all()
    query = select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident.id)
    return list(session.scalars(query.order_by(IncidentEvent.id)))


def test_workflow_forms_change_the_incident(
    client: FlaskClient, db_session: Session, analyst: User, incident: Incident
) -> None:
    sign_in(client, analyst)
    ref = incident.reference
    response = act(client, ref, "status", "status", to="triaged", reason="Vérifié")
    done(client, response, incident, "file-status", "Statut changé : En cours d’examen.")
    response = act(client, ref, "assign", "assign", assignee=str(analyst.id))
    done(client, response, incident, "file-assign", f"Assigné à {analyst.name}.")
    response = act(client, ref, "priority", "priority", priority="P1", reason="Vital")
    done(client, response, incident, "file-priority", "Priorité : P1.")
    response = act(client, ref, "classification", "rsit", classification="fraud/phishing")
    done(client, response, incident, "file-classification", "Fraude — Hameçonnage")
    response = act(client, ref, "markings", "markings", tlp="TLP:GREEN", pap="PAP:CLEAR")
    done(client, response, incident, "file-markings", "TLP:GREEN, PAP:CLEAR")
    response = act(client, ref, "status", "status", to="resolved", resolution="Poste réinstallé")
    done(client, response, incident, "file-status", "Résolu")
    db_session.expire_all()
    assert (incident.status, incident.assignee_id, incident.priority) == (
        "resolved",
        analyst.id,
        "P1",
    )
    assert (incident.category, incident.type, incident.tlp, incident.pap) == (
        "fraud", "phishing", "TLP:GREEN", "PAP:CLEAR",
    )  # fmt: skip
    assert incident.resolution == "Poste réinstallé" and incident.priority_reason == "Vital"
    html = text(client.get(f"/incidents/{ref}"))
    assert "Poste réinstallé" in html and "Vérifié" in html and "Hameçonnage" in html


def test_workflow_errors_are_shown_next_to_their_field(
    client: FlaskClient, db_session: Session, analyst: User, incident: Incident
) -> None:
    sign_in(client, analyst)
    ref = incident.reference
    response = act(client, ref, "status", "status", to="resolved")  # new → resolved: not allowed
    assert response.status_code == 422 and field_error(text(response), "status-to")
    act(client, ref, "status", "status", to="triaged")
    response = act(client, ref, "status", "status", to="resolved", resolution="  ")
    assert response.status_code == 422
    assert field_error(text(response), "status-resolution")
    response = act(client, ref, "priority", "priority", priority="P1", reason="")
    assert response.status_code == 422 and field_error(text(response), "priority-reason")
    response = act(client, ref, "classification", "rsit", classification="fraud/nonsense")
    assert response.status_code == 422 and field_error(text(response), "rsit-classification")
    response = act(client, ref, "assign", "assign", assignee="999999")
    assert response.status_code == 422 and field_error(text(response), "assign-assignee")
    db_session.expire_all()
    assert (incident.status, incident.priority, incident.assignee_id) == ("triaged", "P3", None)


def test_assign_to_me_and_participants(
    client: FlaskClient, db_session: Session, clock: FrozenClock, analyst: User, incident: Incident
) -> None:
    sign_in(client, analyst)
    html = text(client.get(f"/incidents/{incident.reference}"))
    assert f'name="assign-assignee" value="{analyst.id}"' in html  # the "assign to me" button
    done(
        client,
        act(client, incident.reference, "assign", "assign", assignee=str(analyst.id)),
        incident,
        "file-assign",
        f"Assigné à {analyst.name}.",
    )
    colleague = make_user(db_session, clock, role=Role.ANALYST, name="Nadia")
    ref = incident.reference
    done(
        client,
        act(client, ref, "participants", "participant", user=str(colleague.id)),
        incident,
        "participants",
    )
    response = act(client, ref, "participants", "participant", user=str(colleague.id))
    assert response.status_code == 422 and field_error(text(response), "participant-user")
    done(client, act(client, ref, f"participants/{colleague.id}/remove"), incident, "participants")
    db_session.expire_all()
    assert incident.assignee_id == analyst.id
    assert db_session.scalars(select(IncidentParticipant)).all() == []
    timeline = text(client.get(f"/incidents/{ref}?lang=en"))
    assert f"Assigned to <bdi>{analyst.name}</bdi>" in timeline
    assert f"Assigned to <bdi>{analyst.email}" not in timeline


def test_comment_and_reply(
    client: FlaskClient, db_session: Session, analyst: User, reporter: User, incident: Incident
) -> None:
    sign_in(client, analyst)
    ref = incident.reference
    done(
        client,
        act(client, ref, "comments", "comment", body="Note interne"),
        incident,
        "file-comment",
    )
    done(
        client,
        act(client, ref, "replies", "reply", body="Merci, nous analysons."),
        incident,
        "file-reply",
    )
    assert kinds(db_session, incident)[-2:] == ["comment", "reply"]
    mails = db_session.scalars(select(OutboxMessage).where(OutboxMessage.to_addr == reporter.email))
    assert len(mails.all()) == 2  # the acknowledgement and the reply
    for action, prefix in (("comments", "comment"), ("replies", "reply")):
        response = act(client, ref, action, prefix, body="")
        assert response.status_code == 422 and field_error(text(response), f"{prefix}-body")


def test_observables_add_remove_and_errors(
    client: FlaskClient, db_session: Session, analyst: User, incident: Incident
) -> None:
    sign_in(client, analyst)
    ref = incident.reference
    done(
        client,
        act(client, ref, "observables", "observable", type="domain", value="evil[.]example"),
        incident,
        "observables",
    )
    response = act(client, ref, "observables", "observable", type="ipv4", value="999.1.1.1")
    assert response.status_code == 422 and field_error(text(response), "observable-value")
    response = act(client, ref, "observables", "observable", type="domain", value="evil.example")
    assert response.status_code == 422 and field_error(text(response), "observable-value")
    db_session.expire_all()
    added = next(o for o in incident.observables if o.value == "evil.example")
    html = text(client.get(f"/incidents/{ref}"))
    assert "evil.example" in html and "analyst" in html  # found in: the analyst
    done(client, act(client, ref, f"observables/{added.id}/remove"), incident, "observables")
    db_session.expire_all()
    assert all(o.value != "evil.example" for o in incident.observables)


def test_tasks_add_tick_templates_and_errors(
    client: FlaskClient, db_session: Session, analyst: User, incident: Incident
) -> None:
    sign_in(client, analyst)
    ref = incident.reference
    fields = {"title": "Isoler le poste", "assignee": str(analyst.id), "due_at": "2026-01-20T17:00"}
    done(client, act(client, ref, "tasks", "task", **fields), incident, "tasks")
    task = db_session.scalars(select(IncidentTask)).one()
    assert task.assignee_id == analyst.id and task.due_at is not None
    assert task.due_at.hour in (16, 17)  # 17:00 in Casablanca (UTC+1), stored in UTC
    done(client, act(client, ref, f"tasks/{task.id}/done", None, done="1"), incident, "tasks")
    db_session.expire_all()
    assert task.done_at is not None
    done(client, act(client, ref, "tasks/templates"), incident, "tasks")
    assert len(db_session.scalars(tasks.task_list(incident)).all()) > 1
    response = act(client, ref, "tasks", "task", title="", due_at="demain")
    html = text(response)
    assert response.status_code == 422
    assert field_error(html, "task-title") and field_error(html, "task-due_at")


def test_link_unlink_and_merge(
    client: FlaskClient, db_session: Session, clock: FrozenClock, analyst: User, reporter: User,
    incident: Incident,
) -> None:  # fmt: skip
    sign_in(client, analyst)
    other = report(db_session, clock, reporter, INFECTED_HOST, title="Autre")
    ref = incident.reference
    done(client, act(client, ref, "links", "link", reference=other.reference), incident, "related")
    assert other.reference in text(client.get(f"/incidents/{ref}"))
    response = act(client, ref, "links", "link", reference="MACERT-1999-999999")
    assert response.status_code == 422 and field_error(text(response), "link-reference")
    response = act(client, ref, "links", "link", reference=ref)
    assert response.status_code == 422 and field_error(text(response), "link-reference")
    done(client, act(client, ref, f"links/{other.reference}/remove"), incident, "related")
    response = act(client, ref, "merge", "merge", reference=other.reference)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/incidents/{other.reference}#related"
    db_session.expire_all()
    assert incident.status == "duplicate" and incident.duplicate_of_id == other.id
    html = text(client.get(f"/incidents/{ref}"))
    assert f'href="/incidents/{other.reference}"' in html  # "duplicate of"


def test_marking_red_keeps_the_analyst_in_sight(
    client: FlaskClient, db_session: Session, analyst: User, incident: Incident
) -> None:
    sign_in(client, analyst)
    ref = incident.reference
    done(
        client,
        act(client, ref, "markings", "markings", tlp="TLP:RED", pap="PAP:RED"),
        incident,
        "file-markings",
    )
    assert client.get(f"/incidents/{ref}").status_code == 200  # named participant
    db_session.expire_all()
    assert Actor.for_user(analyst).user_id in {p.user_id for p in incident.participants}


def test_a_priority_set_on_the_file_follows_the_configured_sla_policy(
    settings: dict[str, object],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    db_session: Session,
    analyst: User,
    incident: Incident,
) -> None:
    """CERT_SLA_POLICY, not the built-in targets, gives the new due dates (the page once
    recomputed them with the defaults while the API and the bulk bar used the policy)."""
    app = create_app(
        {**settings, "sla_policy": "P1=2h/12h"}, session_factory=session_factory, clock=clock
    )
    client = app.test_client()
    sign_in(client, analyst)
    act(client, incident.reference, "priority", "priority", priority="P1", reason="Vital")
    db_session.refresh(incident)
    assert incident.priority == "P1"
    assert incident.ack_due_at == incident.received_at + dt.timedelta(hours=2)
    assert incident.resolve_due_at == incident.received_at + dt.timedelta(hours=12)
