"""incidents.workspace.workflow: every status transition allowed or refused, resolution summaries,
the closing e-mail, assignment, priority (SLA recomputed), classification, markings, participants,
audit rows and signals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from core.identity.models import Role
from incidents.models import TRANSITIONS, Incident, IncidentEvent, IncidentStatus
from incidents.signals import incident_assigned, incident_closed, incident_status_changed
from incidents.workspace import workflow
from tests.incidents.workspace_helpers import audit_actions, events, outbox
from tests.kit.factories import SETTINGS, make_user, report
from tests.kit.world import World


def move(
    session: Session, world: World, incident: Incident, to: str, clock: FrozenClock, **kw: Any
) -> IncidentEvent:
    """A status change by the analyst, who owns what they resolve (an owner is required)."""
    if to == "resolved" and incident.assignee_id is None:
        kw.setdefault("assignee", world.analyst)
    return workflow.change_status(
        session, world.actor(world.analyst), incident, to, clock=clock, settings=SETTINGS, **kw
    )


@pytest.mark.parametrize("old", list(IncidentStatus))
def test_every_transition_is_allowed_or_refused_as_the_workflow_says(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident, old: IncidentStatus
) -> None:
    original = report(db_session, clock, world.reporter)
    for new in IncidentStatus:
        incident.status, incident.duplicate_of_id = old, None
        if new in TRANSITIONS[old]:
            event = move(
                db_session, world, incident, new, clock, resolution="Blocked the domain.",
                reason="Already known", duplicate_of=original.reference,
            )  # fmt: skip
            assert incident.status == new, (old, new)
            assert event.kind == "status" and event.public
            assert event.data["from"] == old.value and event.data["to"] == new.value
        else:
            with pytest.raises(InvalidTransition) as caught:
                move(db_session, world, incident, new, clock, resolution="Blocked the domain.")
            assert caught.value.fields == {"status": f"cannot go from {old} to {new}"}
            assert isinstance(caught.value, ValidationFailed)  # 422 validation_failed
            assert incident.status == old


def test_an_unknown_status_names_the_valid_ones(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        move(db_session, world, incident, "done", clock)
    assert "triaged" in caught.value.fields["status"]


def test_resolving_needs_a_summary_and_records_it(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    move(db_session, world, incident, "triaged", clock)
    for empty in (None, "", "   "):
        with pytest.raises(ValidationFailed) as caught:
            move(db_session, world, incident, "resolved", clock, resolution=empty)
        assert caught.value.fields == {"resolution": "required"}
    assert incident.status == IncidentStatus.TRIAGED
    event = move(
        db_session, world, incident, "resolved", clock, resolution=" Phishing site taken down "
    )
    assert incident.resolution == "Phishing site taken down"
    assert event.data["resolution"] == "Phishing site taken down"
    assert incident.resolved_at == clock.now()


def test_dates_follow_the_workflow_and_a_reopen_clears_them(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    assert incident.acknowledged_at is None
    move(db_session, world, incident, "triaged", clock)
    acknowledged = clock.now()
    assert incident.acknowledged_at == acknowledged
    clock.advance(hours=2)
    move(db_session, world, incident, "in_progress", clock)
    move(db_session, world, incident, "resolved", clock, resolution="Done")
    clock.advance(hours=1)
    move(db_session, world, incident, "closed", clock)
    assert incident.closed_at == clock.now() and incident.resolved_at == clock.now() - dt.timedelta(
        hours=1
    )
    move(db_session, world, incident, "in_progress", clock, reason="the reporter saw it again")
    assert incident.resolved_at is None and incident.closed_at is None
    assert incident.acknowledged_at == acknowledged  # only the first move acknowledges
    assert events(db_session, incident, "status")[-1].data["reason"] == "the reporter saw it again"


def test_closing_queues_the_closing_mail_to_the_reporter_in_their_language(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    world.reporter.locale = "en"  # the reporter writes English: so does the closing mail
    before = len(outbox(db_session, incident))  # the acknowledgement
    for status in ("triaged", "resolved", "closed"):
        move(db_session, world, incident, status, clock, resolution="Domain suspended")
    mails = outbox(db_session, incident)[before:]
    assert len(mails) == 1
    mail = mails[0]
    assert mail.to_addr == world.reporter.email and mail.language == "en"
    assert mail.subject == f"[TLP:AMBER] Incident closed — {incident.reference}"
    assert f"/track/{incident.reference}" in mail.text_body and mail.tlp == "TLP:AMBER"
    logged = events(db_session, incident, "mail")
    assert [(e.public, e.data["to"], e.data["template"]) for e in logged] == [
        (False, world.reporter.email, "closing")
    ]


def test_an_incident_recorded_by_staff_closes_to_its_contact_address_in_french(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    contact = {"name": "Salma", "email": "salma@sante.gov.ma"}
    incident = report(
        db_session,
        clock,
        world.analyst,
        organisation=world.sante.slug,
        contact=contact,
        impact="low",
    )
    for status in ("triaged", "resolved", "closed"):
        move(db_session, world, incident, status, clock, resolution="ok")
    mail = outbox(db_session, incident)[-1]
    assert mail.to_addr == "salma@sante.gov.ma" and mail.language == "fr"
    assert incident.reference in mail.subject


def test_only_cert_staff_change_the_workflow(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    reporter = world.actor(world.reporter)
    with pytest.raises(PermissionDenied):
        workflow.change_status(
            db_session, reporter, incident, "triaged", clock=clock, settings=SETTINGS
        )
    with pytest.raises(PermissionDenied):
        workflow.assign(db_session, reporter, incident, world.analyst, clock=clock)
    with pytest.raises(PermissionDenied):
        workflow.set_priority(
            db_session, reporter, incident, "P1", "urgent", clock=clock, settings=SETTINGS
        )
    with pytest.raises(PermissionDenied):
        workflow.reclassify(db_session, reporter, incident, "fraud", None, clock=clock)
    assert incident.status == IncidentStatus.NEW and incident.assignee_id is None


def test_status_changes_are_audited_and_signalled(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    seen: list[tuple[str, Any]] = []

    def changed(sender: Incident, **kw: Any) -> None:
        seen.append(("changed", kw["new"]))

    def closed(sender: Incident, **kw: Any) -> None:
        seen.append(("closed", sender.reference))

    with incident_status_changed.connected_to(changed), incident_closed.connected_to(closed):
        for status in ("triaged", "resolved", "closed"):
            move(db_session, world, incident, status, clock, resolution="ok")
    assert seen == [
        ("changed", IncidentStatus.TRIAGED),
        ("changed", IncidentStatus.RESOLVED),
        ("changed", IncidentStatus.CLOSED),
        ("closed", incident.reference),
    ]
    assert audit_actions(db_session, incident).count("incident.status") == 3


# ---------------------------------------------------------------- assignment
def test_assignment_to_staff_is_internal_and_audited(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    event = workflow.assign(
        db_session, world.actor(world.lead), incident, world.analyst, clock=clock
    )
    assert incident.assignee_id == world.analyst.id
    assert event.kind == "assignment" and not event.public
    assert event.data == {
        "assignee": world.analyst.email,
        "name": world.analyst.name,
    }  # name: timeline
    workflow.assign(db_session, world.actor(world.lead), incident, None, clock=clock)
    assert incident.assignee_id is None
    assert audit_actions(db_session, incident).count("incident.assign") == 2


def test_the_assignment_signal_carries_user_ids(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    seen: list[tuple[object, object]] = []

    def assigned(sender: Incident, **kw: Any) -> None:
        seen.append((kw["old"], kw["new"]))

    with incident_assigned.connected_to(assigned):
        for user in (world.analyst, world.analyst2, None):
            workflow.assign(db_session, world.actor(world.lead), incident, user, clock=clock)
    assert seen == [
        (None, world.analyst.id),
        (world.analyst.id, world.analyst2.id),
        (world.analyst2.id, None),
    ]


def test_only_active_cert_staff_can_be_assigned(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    inactive = make_user(db_session, clock, role=Role.ANALYST, password=None)
    inactive.is_active = False
    for user in (world.reporter, inactive):
        with pytest.raises(ValidationFailed) as caught:
            workflow.assign(db_session, world.actor(world.lead), incident, user, clock=clock)
        assert set(caught.value.fields) == {"assignee"}
    assert incident.assignee_id is None


# ---------------------------------------------------------------- priority
def test_a_priority_override_needs_a_reason_and_recomputes_the_sla(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, impact="low", urgency="low")
    assert incident.priority == "P4"
    analyst = world.actor(world.analyst)
    with pytest.raises(ValidationFailed) as caught:
        workflow.set_priority(
            db_session, analyst, incident, "P1", " ", clock=clock, settings=SETTINGS
        )
    assert caught.value.fields == {"reason": "required"}
    with pytest.raises(ValidationFailed) as caught:
        workflow.set_priority(
            db_session, analyst, incident, "P9", "why", clock=clock, settings=SETTINGS
        )
    assert set(caught.value.fields) == {"priority"}
    event = workflow.set_priority(
        db_session, analyst, incident, "p1", "ransomware", clock=clock, settings=SETTINGS
    )
    assert incident.priority == "P1" and incident.priority_reason == "ransomware"
    assert incident.ack_due_at == incident.received_at + dt.timedelta(hours=1)
    assert incident.resolve_due_at == incident.received_at + dt.timedelta(hours=24)
    assert event.data == {"from": "P4", "to": "P1", "reason": "ransomware"}


# ---------------------------------------------------------------- classification, markings
def test_reclassification_is_checked_against_rsit(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    analyst = world.actor(world.analyst)
    with pytest.raises(ValidationFailed) as caught:
        workflow.reclassify(db_session, analyst, incident, "intrusions", "phishing", clock=clock)
    assert set(caught.value.fields) == {"type"}
    event = workflow.reclassify(
        db_session, analyst, incident, "intrusions", "system-compromise", clock=clock
    )
    assert (incident.category, incident.type) == ("intrusions", "system-compromise")
    assert event.data["from"] == {"category": "fraud", "type": "phishing"}
    assert "incident.classification" in audit_actions(db_session, incident)


def test_markings_move_observables_and_keep_a_red_marking_analyst_in(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    assert {o.tlp for o in incident.observables} == {"TLP:AMBER"}
    with pytest.raises(ValidationFailed):
        workflow.set_markings(
            db_session, world.actor(world.analyst), incident, "TLP:PURPLE", "PAP:RED", clock=clock
        )
    workflow.set_markings(
        db_session, world.actor(world.analyst), incident, "red", "PAP:RED", clock=clock
    )
    assert (incident.tlp, incident.pap) == ("TLP:RED", "PAP:RED")
    assert {o.tlp for o in incident.observables} == {"TLP:RED"}
    assert [p.user_id for p in incident.participants] == [world.analyst.id]


def test_participants_are_named_staff(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    lead = world.actor(world.lead)
    event = workflow.add_participant(db_session, lead, incident, world.analyst2, clock=clock)
    assert event.data == {"added": world.analyst2.email}
    with pytest.raises(ValidationFailed):
        workflow.add_participant(db_session, lead, incident, world.analyst2, clock=clock)
    with pytest.raises(ValidationFailed):
        workflow.add_participant(db_session, lead, incident, world.reporter, clock=clock)
    workflow.remove_participant(db_session, lead, incident, world.analyst2, clock=clock)
    assert incident.participants == []
    with pytest.raises(ValidationFailed):
        workflow.remove_participant(db_session, lead, incident, world.analyst2, clock=clock)
