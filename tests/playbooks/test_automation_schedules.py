"""Schedules through their services (both databases): every field's rule, the default zone,
next_fire_at computed again on every change (cron weekdays counted as crontab does), and the
audit rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import User
from playbooks.automation import services as svc
from playbooks.settings import PlaybookSettings
from tests.kit.world import World
from tests.playbooks.automation_kit import check_playbook, refused

SETTINGS = PlaybookSettings(timezone="Africa/Casablanca")


def test_schedule_fields_default_zone_and_next_fire(
    db_session: Session, clock: FrozenClock, world: World, lead: User
) -> None:
    clock.set(dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC))
    cacao_id = check_playbook(db_session, clock).cacao_id
    actor = Actor.for_user(lead)
    fields = refused(
        svc.add_schedule,
        db_session,
        actor,
        cacao_id,
        {"cron": "0 7 * *", "timezone": "Mars/Olympus", "organisation_ids": [987654]},
        clock=clock,
        settings=SETTINGS,
    )
    assert set(fields) == {"cron", "timezone"}
    assert (
        "five fields" in fields["cron"] and "unknown time zone 'Mars/Olympus'" in fields["timezone"]
    )
    fields = refused(
        svc.add_schedule,
        db_session,
        actor,
        cacao_id,
        {"cron": "0 0 30 2 *", "organisation_ids": [987654, world.sante.id]},
        clock=clock,
        settings=SETTINGS,
    )
    assert fields == {
        "cron": "'0 0 30 2 *' never fires",
        "organisation_ids": "no organisation with the id 987654",
    }
    fields = refused(
        svc.add_schedule,
        db_session,
        actor,
        cacao_id,
        {"cron": "61 7 * * *"},
        clock=clock,
        settings=SETTINGS,
    )
    assert fields["cron"].startswith("invalid cron expression")

    schedule = svc.add_schedule(
        db_session,
        actor,
        cacao_id,
        {
            "cron": "  0   7 * * * ",
            "organisation_ids": [world.sante.id, world.interieur.id, world.sante.id],
        },
        clock=clock,
        settings=SETTINGS,
    )
    assert schedule.cron == "0 7 * * *" and schedule.timezone == "Africa/Casablanca"
    assert schedule.organisation_ids == sorted([world.sante.id, world.interieur.id])
    assert schedule.next_fire_at == dt.datetime(2026, 12, 5, 6, 0, tzinfo=dt.UTC)
    everyone = svc.add_schedule(
        db_session,
        actor,
        cacao_id,
        {"cron": "0 7 * * 1", "organisation_ids": [], "timezone": "UTC"},
        clock=clock,
        settings=SETTINGS,
    )
    assert everyone.organisation_ids is None
    assert everyone.next_fire_at == dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.UTC)


def test_editing_a_schedule_moves_its_next_slot_and_is_audited(
    db_session: Session, clock: FrozenClock, world: World, lead: User
) -> None:
    clock.set(dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC))
    actor = Actor.for_user(lead)
    cacao_id = check_playbook(db_session, clock).cacao_id
    schedule = svc.add_schedule(
        db_session, actor, cacao_id, {"cron": "0 7 * * *"}, clock=clock, settings=SETTINGS
    )
    clock.advance(hours=1)
    svc.update_schedule(
        db_session,
        actor,
        schedule,
        {"cron": "30 20 * * *", "timezone": "UTC"},
        clock=clock,
        settings=SETTINGS,
    )
    assert schedule.next_fire_at == dt.datetime(2026, 12, 4, 20, 30, tzinfo=dt.UTC)
    row = db_session.scalar(
        select(AuditEntry).where(AuditEntry.action == "playbook.schedule_update")
    )
    assert row is not None and row.before["cron"] == "0 7 * * *"
    assert row.after["next_fire_at"].startswith("2026-12-04T20:30")
    assert svc.set_schedule_enabled(db_session, actor, schedule, False, clock=clock)
    assert schedule.next_fire_at is None and not schedule.enabled
    assert not svc.set_schedule_enabled(db_session, actor, schedule, False, clock=clock)
    clock.advance(hours=2)  # 21:00: today's 20:30 slot was missed while disabled
    svc.set_schedule_enabled(db_session, actor, schedule, True, clock=clock)
    assert schedule.next_fire_at == dt.datetime(2026, 12, 5, 20, 30, tzinfo=dt.UTC)
    actions = list(
        db_session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "playbook_schedule")
            .order_by(AuditEntry.id)
        )
    )
    assert actions == ["playbook.schedule_create"] + ["playbook.schedule_update"] * 3


@pytest.mark.parametrize(
    ("weekday", "first"),
    [
        ("1", "Mon 07"),
        ("1-5", "Mon 07"),
        ("0", "Sun 06"),
        ("7", "Sun 06"),
        ("5,6", "Sat 05"),
        ("*/2", "Sat 05"),
        ("mon-fri", "Mon 07"),
    ],
)
def test_cron_weekdays_count_like_crontab(weekday: str, first: str) -> None:
    """0 and 7 are Sunday, 1 is Monday (APScheduler 3 alone would read 1 as Tuesday)."""
    from playbooks.rules.cron import next_fire

    friday_evening = dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC)
    assert next_fire(f"0 7 * * {weekday}", "UTC", friday_evening).strftime("%a %d") == first
