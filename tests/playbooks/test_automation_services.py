"""Triggers through their services (both databases): every field's rule with the same errors on
SQLite and PostgreSQL, the stored normal form of conditions, the phase rule (also against a newer
version of the playbook), the audit rows, and runs kept on deletion. Schedules:
``test_automation_schedules.py``."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.errors import Message, NotFound, PermissionDenied
from core.identity.authz import Actor
from core.identity.models import User
from playbooks.automation import services as svc
from playbooks.engine.runs import start_run
from playbooks.models import PlaybookRun, RunOrigin
from playbooks.settings import PlaybookSettings
from tests.kit.world import World
from tests.playbooks.automation_kit import check_playbook, refused, response_playbook

SETTINGS = PlaybookSettings(timezone="Africa/Casablanca")


def test_trigger_conditions_are_stored_normalised_and_audited(
    db_session: Session, clock: FrozenClock, world: World, lead: User
) -> None:
    playbook = response_playbook(db_session, clock)
    org = world.interieur
    data = {
        "event": "Classified",
        "conditions": {
            "categories": ["malicious-code", "fraud", "fraud"],
            "types": ["phishing", "infected-system", " phishing "],
            "min_priority": "p2",
            "tlp": ["red", "TLP:WHITE", "TLP:RED"],
            "organisation_ids": [org.id, org.id],
            "sectors": ["Health", "government"],
            "statuses": [],
        },
    }
    trigger = svc.add_trigger(
        db_session, Actor.for_user(lead), playbook.cacao_id, data, clock=clock
    )
    assert trigger.event.value == "classified" and trigger.enabled
    assert trigger.conditions == {
        "categories": ["fraud", "malicious-code"],
        "types": ["infected-system", "phishing"],
        "min_priority": "P2",
        "tlp": ["TLP:CLEAR", "TLP:RED"],
        "organisation_ids": [org.id],
        "sectors": ["government", "health"],
    }
    assert svc.list_triggers(db_session, playbook.cacao_id) == [trigger]
    assert svc.list_triggers(db_session, "playbook--other") == []
    entry = db_session.scalar(
        select(AuditEntry).where(AuditEntry.action == "playbook.trigger_create")
    )
    assert entry is not None and entry.object_id == str(trigger.id)
    assert entry.after["conditions"]["min_priority"] == "P2" and entry.actor_id == lead.id

    svc.update_trigger(
        db_session,
        Actor.for_user(lead),
        trigger,
        {"event": "created", "conditions": {"min_priority": "P1"}},
        clock=clock,
    )
    assert trigger.conditions == {"min_priority": "P1"} and trigger.updated_at == clock.now()
    update = db_session.scalar(
        select(AuditEntry).where(AuditEntry.action == "playbook.trigger_update")
    )
    assert update is not None
    assert update.before["event"] == "classified" and update.after["event"] == "created"
    assert update.after["conditions"] == {"min_priority": "P1"}


def test_every_trigger_field_is_checked_and_named(
    db_session: Session, clock: FrozenClock, world: World, lead: User
) -> None:
    cacao_id = response_playbook(db_session, clock).cacao_id
    actor = Actor.for_user(lead)
    fields = refused(
        svc.add_trigger,
        db_session,
        actor,
        cacao_id,
        {
            "event": "exploded",
            "conditions": {
                "categories": ["ransomware"],
                "min_priority": "P9",
                "tlp": ["TLP:PINK"],
                "organisation_ids": [987654],
                "colour": "blue",
            },
        },
        clock=clock,
    )
    assert set(fields) == {
        "event",
        "conditions.categories",
        "conditions.min_priority",
        "conditions.tlp",
        "conditions.colour",
    }
    assert "valid events: created, classified" in fields["event"]
    assert "unknown RSIT class 'ransomware'" in fields["conditions.categories"]
    assert "P1, P2, P3 or P4" in fields["conditions.min_priority"]
    assert "TLP:PINK" in fields["conditions.tlp"]
    assert isinstance(fields["conditions.categories"], Message)  # pages translate it

    fields = refused(
        svc.add_trigger,
        db_session,
        actor,
        cacao_id,
        {
            "event": "created",
            "conditions": {
                "categories": ["fraud"],
                "types": ["ddos", "phishing"],
                "statuses": ["closed"],
                "organisation_ids": [987654],
                "sectors": ["astrology"],
            },
        },
        clock=clock,
    )
    assert set(fields) == {
        "conditions.types",
        "conditions.statuses",
        "conditions.organisation_ids",
        "conditions.sectors",
    }
    assert "ddos not in the classes chosen (fraud)" in fields["conditions.types"]
    assert "only to the event 'status'" in fields["conditions.statuses"]
    assert fields["conditions.organisation_ids"] == "no organisation with the id 987654"
    assert "unknown sector astrology" in fields["conditions.sectors"]
    types = refused(
        svc.add_trigger,
        db_session,
        actor,
        cacao_id,
        {"event": "created", "conditions": {"types": ["ransomware"]}},
        clock=clock,
    )
    assert types["conditions.types"].startswith("unknown RSIT type 'ransomware'; valid types: spam")
    ok = svc.add_trigger(
        db_session,
        actor,
        cacao_id,
        {"event": "status", "conditions": {"statuses": ["resolved", "closed"]}},
        clock=clock,
    )
    assert ok.conditions == {"statuses": ["closed", "resolved"]}
    assert (
        db_session.scalar(
            select(AuditEntry.id).where(
                AuditEntry.action == "playbook.trigger_create", AuditEntry.object_id != str(ok.id)
            )
        )
        is None
    )


def test_phase_rule_roles_and_unknown_playbook(
    db_session: Session, clock: FrozenClock, world: World, lead: User, analyst: User
) -> None:
    before, after = check_playbook(db_session, clock), response_playbook(db_session, clock)
    actor = Actor.for_user(lead)
    fields = refused(
        svc.add_trigger, db_session, actor, before.cacao_id, {"event": "created"}, clock=clock
    )
    assert "give it a schedule instead" in fields["playbook"]
    assert "prevention, detection" in fields["playbook"]
    fields = refused(
        svc.add_schedule,
        db_session,
        actor,
        after.cacao_id,
        {"cron": "0 7 * * *"},
        clock=clock,
        settings=SETTINGS,
    )
    assert "give it a trigger instead" in fields["playbook"]
    with pytest.raises(PermissionDenied):
        svc.add_trigger(
            db_session, Actor.for_user(analyst), after.cacao_id, {"event": "created"}, clock=clock
        )
    with pytest.raises(NotFound):
        svc.add_trigger(db_session, actor, "playbook--nope", {"event": "created"}, clock=clock)


def test_deleting_keeps_the_runs(
    db_session: Session, clock: FrozenClock, world: World, lead: User, reporter: User
) -> None:
    from tests.kit.factories import report

    actor = Actor.for_user(lead)
    playbook = response_playbook(db_session, clock)
    trigger = svc.add_trigger(
        db_session, actor, playbook.cacao_id, {"event": "created"}, clock=clock
    )
    incident = report(db_session, clock, reporter)
    run = start_run(
        db_session,
        playbook,
        origin=RunOrigin.TRIGGER,
        dedupe_key=f"t:{trigger.id}:1",
        actor=actor,
        clock=clock,
        settings=SETTINGS,
        incident=incident,
        trigger=trigger,
    )
    assert run is not None and run.trigger_id == trigger.id
    assert svc.last_started(db_session, [trigger.id]) == {trigger.id: clock.now()}
    assert svc.set_trigger_enabled(db_session, actor, trigger, False, clock=clock)
    trigger_id = trigger.id
    svc.delete_trigger(db_session, actor, trigger, clock=clock)
    db_session.expire_all()
    kept = db_session.get(PlaybookRun, run.id)
    assert kept is not None and kept.trigger_id is None and kept.origin is RunOrigin.TRIGGER
    with pytest.raises(NotFound):
        svc.get_trigger(db_session, trigger_id)
    entry = db_session.scalar(
        select(AuditEntry).where(AuditEntry.action == "playbook.trigger_delete")
    )
    assert (
        entry is not None
        and entry.before["event"] == "created"
        and entry.before["enabled"] is False
    )

    check = check_playbook(db_session, clock)
    schedule = svc.add_schedule(
        db_session, actor, check.cacao_id, {"cron": "0 7 * * *"}, clock=clock, settings=SETTINGS
    )
    fired = start_run(
        db_session,
        check,
        origin=RunOrigin.SCHEDULE,
        dedupe_key=f"s:{schedule.id}",
        actor=actor,
        clock=clock,
        settings=SETTINGS,
        schedule=schedule,
    )
    assert fired is not None
    svc.delete_schedule(db_session, actor, schedule, clock=clock)
    db_session.expire_all()
    assert db_session.get(PlaybookRun, fired.id).schedule_id is None  # type: ignore[union-attr]


def test_a_newer_version_of_another_phase_blocks_enabling_and_changes(
    db_session: Session, clock: FrozenClock, world: World, lead: User
) -> None:
    from playbooks.library.services import import_playbook
    from tests.playbooks.cacao_kit import document, text

    actor = Actor.for_user(lead)
    playbook = response_playbook(db_session, clock)
    trigger = svc.add_trigger(
        db_session, actor, playbook.cacao_id, {"event": "created", "enabled": False}, clock=clock
    )
    newer = document(pid=playbook.cacao_id, modified="2026-11-05T08:00:00Z", types=("prevention",))
    import_playbook(db_session, Actor.system("test"), text(newer), clock=clock)
    fields = refused(svc.set_trigger_enabled, db_session, actor, trigger, True, clock=clock)
    assert "give it a schedule instead" in fields["playbook"]
    fields = refused(
        svc.update_trigger, db_session, actor, trigger, {"event": "status"}, clock=clock
    )
    assert set(fields) == {"playbook"}
    assert not trigger.enabled and trigger.event.value == "created"
    assert svc.set_trigger_enabled(db_session, actor, trigger, False, clock=clock) is False
    svc.delete_trigger(db_session, actor, trigger, clock=clock)  # always possible
