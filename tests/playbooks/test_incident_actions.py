"""The x-vigie executors, each called with a CommandCall built by hand on a real incident:
what they change, what they refuse (naming the argument), and who they mail."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.events import DomainEvent
from core.identity.authz import Actor
from core.identity.centres import CentreMember
from core.identity.models import Organisation, User
from core.markings import Tlp
from core.outbox import OutboxMessage
from feeds.models import Feed, FeedKind, Indicator
from feeds.settings import FeedSettings
from incidents.models import Incident, IncidentEvent, IncidentStatus, IncidentTask
from incidents.notifications.mailing import send_immediate
from incidents.notifications.models import (
    Notification,
    NotificationKind,
)
from playbooks import actions
from playbooks.engine.registry import CommandCall, CommandOutcome, executor
from playbooks.engine.runs import start_run
from playbooks.library.services import import_playbook
from playbooks.models import PlaybookRun, RunOrigin
from playbooks.settings import PlaybookSettings
from tests.feeds.served import serve
from tests.kit import intel
from tests.kit.factories import INFECTED_HOST, report
from tests.kit.world import World
from tests.playbooks.cacao_kit import document, text

assert actions.notify  # registers the executors
SETTINGS = PlaybookSettings()


def new_run(
    session: Session, clock: FrozenClock, *, incident: Incident | None = None,
    organisation: Organisation | None = None,
) -> PlaybookRun:  # fmt: skip
    playbook = import_playbook(session, Actor.system("test"), text(document()), clock=clock)
    run = start_run(session, playbook.playbook, origin=RunOrigin.MANUAL,
                    dedupe_key=f"test-{playbook.playbook.id}-{clock.now().isoformat()}",
                    actor=Actor.system("test"), clock=clock, settings=SETTINGS,
                    incident=incident, organisation=organisation)  # fmt: skip
    assert run is not None
    return run


def act(
    session: Session,
    clock: FrozenClock,
    run: PlaybookRun,
    action: str,
    arguments: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
    *,
    settings: PlaybookSettings = SETTINGS,
) -> CommandOutcome:
    command: dict[str, Any] = {"type": "x-vigie", "command": action}
    if arguments is not None:
        command["arguments"] = arguments
    incident = session.get(Incident, run.incident_id) if run.incident_id else None
    organisation = session.get(Organisation, run.organisation_id) if run.organisation_id else None
    call = CommandCall(
        run=run,
        step_id="action--1",
        step={"type": "action", "commands": [command]},
        command=command,
        variables=variables or {},
        incident=incident,
        organisation=organisation,
        actor=Actor.system(f"playbook-run:{run.id}"),
        clock=clock,
        settings=settings,
    )
    registered = executor(f"x-vigie:{action}")
    assert registered is not None
    outcome = registered.fn(session, call)
    session.flush()
    return outcome


def mails_after(session: Session, last_id: int) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.id > last_id).order_by(OutboxMessage.id)
    return list(session.scalars(query))


def last_mail(session: Session) -> int:
    return session.scalar(select(func.max(OutboxMessage.id))) or 0


def test_create_incident_goes_through_intake_and_becomes_the_runs(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    run = new_run(db_session, clock, organisation=world.interieur)
    arguments = {
        "title": "Exposition de __host__:value",
        "category": "vulnerable",
        "type": "vulnerable-system",
        "priority": "P1",
        "tlp": "green",
    }
    outcome = act(
        db_session, clock, run, "create-incident", arguments, {"__host__": "mail\x07.gov"}
    )
    assert outcome.ok, outcome.error
    incident = db_session.get_one(Incident, run.incident_id)
    assert outcome.outputs == {"__incident_reference__": incident.reference}
    assert incident.organisation_id == world.interieur.id and incident.reporter_id is None
    assert incident.title == "Exposition de mail .gov"  # plain: the control character dropped
    assert (incident.category, incident.type) == ("vulnerable", "vulnerable-system")
    assert (incident.priority, incident.tlp) == ("P1", "TLP:GREEN")
    more = {**arguments, "title": "Autre", "description": "More"}
    again = act(db_session, clock, run, "create-incident", more)
    assert again.ok and again.outputs["__incident_reference__"] == incident.reference
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 1


def test_create_incident_refuses_bad_arguments_by_name(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    run = new_run(db_session, clock, organisation=world.interieur)
    cases = [
        ({"title": "Titre", "category": "nonsense"}, "arguments.category"),
        ({"title": "Titre", "category": "fraud", "type": "infected-system"}, "arguments.type"),
        ({"category": "fraud"}, "arguments.title: required"),
        ({"title": "Titre", "category": "fraud", "colour": "red"}, "arguments.colour: unknown"),
        ({"title": 12, "category": "fraud"}, "arguments.title: must be a string"),
        ({"title": "Titre", "category": "fraud", "tlp": "purple"}, "arguments.tlp"),
    ]
    for arguments, expected in cases:
        outcome = act(db_session, clock, run, "create-incident", arguments)
        assert not outcome.ok and expected in (outcome.error or ""), (arguments, outcome.error)
    assert run.incident_id is None
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 0
    no_org = new_run(db_session, clock)
    outcome = act(db_session, clock, no_org, "create-incident", {"title": "T", "category": "fraud"})
    assert not outcome.ok and "needs a run for an organisation" in (outcome.error or "")


def test_add_task_for_the_assignee_or_a_staff_member(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, INFECTED_HOST,
                      state={"assignee_id": world.analyst.id})  # fmt: skip
    run = new_run(db_session, clock, incident=incident)
    outcome = act(db_session, clock, run, "add-task", {"title": "Isoler", "due_hours": 4})
    assert outcome.ok, outcome.error
    task = db_session.get_one(IncidentTask, outcome.outputs["__task_id__"])
    assert (task.incident_id, task.assignee_id) == (incident.id, world.analyst.id)
    assert task.due_at == clock.now() + dt.timedelta(hours=4)
    by_mail = act(
        db_session, clock, run, "add-task", {"title": "Relire", "assignee": world.lead.email}
    )
    assert (
        db_session.get_one(IncidentTask, by_mail.outputs["__task_id__"]).assignee_id
        == world.lead.id
    )
    refused = act(
        db_session, clock, run, "add-task", {"title": "X", "assignee": world.reporter.email}
    )
    assert not refused.ok and "arguments.assignee" in (refused.error or "")
    wrong = act(db_session, clock, run, "add-task", {"title": "X", "due_hours": "soon"})
    assert not wrong.ok and "arguments.due_hours: must be an integer" in (wrong.error or "")
    assert db_session.scalar(select(func.count()).select_from(IncidentTask)) == 2


def test_set_priority_and_status_follow_the_workflow(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, INFECTED_HOST)
    run = new_run(db_session, clock, incident=incident)
    outcome = act(db_session, clock, run, "set-priority", {"priority": "p1"})
    assert outcome.ok and incident.priority == "P1"
    assert incident.priority_reason == f'set by playbook "Test playbook" (run #{run.id})'
    bad = act(db_session, clock, run, "set-priority", {"priority": "P9"})
    assert not bad.ok and "priority" in (bad.error or "") and incident.priority == "P1"
    moved = act(db_session, clock, run, "set-status", {"status": "triaged"})
    assert moved.ok and incident.status is IncidentStatus.TRIAGED
    refused = act(db_session, clock, run, "set-status", {"status": "closed"})
    assert not refused.ok and "cannot go from" in (refused.error or "")
    assert incident.status is IncidentStatus.TRIAGED
    needs = act(db_session, clock, run, "set-status", {"status": "resolved"})
    assert not needs.ok and "resolution" in (needs.error or "")
    no_incident = act(db_session, clock, new_run(db_session, clock), "set-status", {"status": "x"})
    assert not no_incident.ok and "needs a run on an incident" in (no_incident.error or "")


def test_notify_organisation_mails_its_contacts_in_their_language(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.interieur.contact_emails = ["soc@interieur.gov.ma", world.reporter.email]
    world.reporter.locale = "ar"
    incident = report(db_session, clock, world.reporter, INFECTED_HOST)
    run = new_run(db_session, clock, incident=incident)
    before = last_mail(db_session)
    arguments = {"subject": "Poste infecté __ref__:value", "message": "Isolez le poste."}
    outcome = act(db_session, clock, run, "notify-organisation", arguments,
                  {"__ref__": incident.reference})  # fmt: skip
    assert outcome.ok and outcome.outputs == {"__notified__": 2}
    sent = {m.to_addr: m for m in mails_after(db_session, before)}
    assert set(sent) == {"soc@interieur.gov.ma", "rssi@interieur.gov.ma"}
    assert (sent["soc@interieur.gov.ma"].language, sent["rssi@interieur.gov.ma"].language) == (
        "fr",
        "ar",
    )
    assert all(
        m.tlp == "TLP:AMBER" and "Isolez le poste." in (m.text_body or "") for m in sent.values()
    )
    assert "[TLP:AMBER] Poste infecté" in (sent["soc@interieur.gov.ma"].subject or "")


def test_a_red_incident_is_mailed_to_its_reporter_only(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.interieur.contact_emails = ["soc@interieur.gov.ma", "dsi@interieur.gov.ma"]
    incident = report(db_session, clock, world.reporter, INFECTED_HOST, tlp="TLP:RED")
    run = new_run(db_session, clock, incident=incident)
    before = last_mail(db_session)
    outcome = act(db_session, clock, run, "notify-organisation", {"subject": "S", "message": "M"})
    assert outcome.ok and outcome.outputs == {"__notified__": 1}
    assert [(m.to_addr, m.tlp) for m in mails_after(db_session, before)] == [
        ("rssi@interieur.gov.ma", "TLP:RED")
    ]
    nobody = report(db_session, clock, world.lead, INFECTED_HOST, tlp="TLP:RED",
                    organisation=world.interieur.slug)  # fmt: skip
    before = last_mail(db_session)
    refused = act(db_session, clock, new_run(db_session, clock, incident=nobody),
                  "notify-organisation", {"subject": "S", "message": "M"})  # fmt: skip
    assert not refused.ok and "TLP:RED" in (refused.error or "")
    assert mails_after(db_session, before) == []


def test_notify_assignee_and_leads_through_the_notification_centre(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, INFECTED_HOST, tlp="TLP:RED",
                      state={"assignee_id": world.analyst.id})  # fmt: skip
    lead = world.lead
    run = new_run(db_session, clock, incident=incident)
    assert act(db_session, clock, run, "notify-assignee", {"message": "À vérifier"}).ok
    leads = act(db_session, clock, run, "notify-leads", {"message": "Escalade"})
    assert leads.ok and leads.outputs == {"__notified__": 1}
    told = db_session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.PLAYBOOK)
    )
    assert sorted(n.user_id for n in told) == sorted([world.analyst.id, lead.id])
    comments = db_session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "comment"))  # fmt: skip
    assert any("Escalade" in str(c.data["body"]) for c in comments)
    before = last_mail(db_session)
    send_immediate(db_session, settings=SETTINGS.intake, clock=clock)
    mailed = {m.to_addr for m in mails_after(db_session, before)}
    assert mailed == {world.analyst.email, lead.email}


def test_a_red_incident_is_never_notified_to_staff_who_may_not_see_it(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    on_duty, lead = world.analyst2, world.lead  # no assignee: the leads and the staff on duty
    db_session.execute(
        update(CentreMember).where(CentreMember.user_id == on_duty.id).values(on_duty=True)
    )
    amber = report(db_session, clock, world.reporter, INFECTED_HOST)
    red = report(db_session, clock, world.reporter, INFECTED_HOST, tlp="TLP:RED")
    for incident in (amber, red):
        run = new_run(db_session, clock, incident=incident)
        assert act(db_session, clock, run, "notify-assignee", {"message": "Qui s'en charge ?"}).ok
    told = db_session.scalars(select(Notification).order_by(Notification.id))
    assert {(n.incident_id, n.user_id) for n in told} == {
        (amber.id, lead.id),
        (amber.id, on_duty.id),
        (red.id, lead.id),  # not the analyst on duty: TLP:RED
    }


def test_notify_leads_without_an_incident_mails_them(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    lead, analyst = world.lead, world.analyst
    run = new_run(db_session, clock, organisation=world.interieur)
    before = last_mail(db_session)
    outcome = act(db_session, clock, run, "notify-leads", {"message": "Contrôle terminé"})
    assert outcome.ok and outcome.outputs == {"__notified__": 1}
    assert [m.to_addr for m in mails_after(db_session, before)] == [lead.email]
    assert analyst.email not in {m.to_addr for m in mails_after(db_session, before)}


def test_request_bulletin_records_the_event_and_tells_the_leads(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, INFECTED_HOST)
    lead: User = world.lead
    run = new_run(db_session, clock, incident=incident)
    outcome = act(db_session, clock, run, "request-bulletin", {"reason": "campagne"})
    assert outcome.ok, outcome.error
    row = db_session.scalars(
        select(DomainEvent).where(DomainEvent.name == "playbook.bulletin_requested")
    ).one()
    assert row.payload["run_id"] == run.id and row.payload["incident_id"] == incident.id
    told = db_session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.PLAYBOOK)
    )
    assert [n.user_id for n in told] == [lead.id]


def test_match_observables_counts_the_incidents_matches(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, INFECTED_HOST)  # 198.51.100.23
    run = new_run(db_session, clock, incident=incident)
    first = act(db_session, clock, run, "match-observables")
    assert first.ok and first.outputs == {"__matches__": 0}
    intel.indicator(db_session, "ipv4", "198.51.100.23")
    second = act(db_session, clock, run, "match-observables")
    assert second.ok and second.outputs == {"__matches__": 1}
    assert "1 new" in (second.result or "")
    third = act(db_session, clock, run, "match-observables")
    assert third.outputs == {"__matches__": 1} and "0 new" in (third.result or "")


def test_poll_feed_polls_the_named_feed_now(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    registered = executor("x-vigie:poll-feed")
    assert registered is not None and registered.external
    with serve(tmp_path) as served:
        (served.root / "ips.txt").write_text("# blocklist\n203.0.113.9\n203.0.113.10\n")
        feed = Feed(name="abuse-ips", kind=FeedKind.CSV, url=f"{served.base}/ips.txt",
                    default_tlp=Tlp.CLEAR, value_type="ipv4", created_at=clock.now())  # fmt: skip
        db_session.add(feed)
        db_session.flush()
        run = new_run(db_session, clock)
        settings = PlaybookSettings(feeds=FeedSettings(allow_private=True, timeout_seconds=10))
        outcome = act(db_session, clock, run, "poll-feed", {"feed": "abuse-ips"}, settings=settings)
        assert outcome.ok, outcome.error
        assert outcome.outputs == {"__new_indicators__": 2}
        indicators = db_session.scalars(select(Indicator).where(Indicator.feed_id == feed.id))
        assert len(list(indicators)) == 2
        unknown = act(db_session, clock, run, "poll-feed", {"feed": "nope"}, settings=settings)
        assert not unknown.ok and unknown.error == "arguments.feed: no feed named 'nope'"
        (served.root / "ips.txt").unlink()
        gone = act(db_session, clock, run, "poll-feed", {"feed": "abuse-ips"}, settings=settings)
        assert not gone.ok and "poll of abuse-ips" in (gone.error or "")
