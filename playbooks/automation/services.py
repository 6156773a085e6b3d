"""Triggers and schedules of playbooks (use cases, Flask-free; flush, never commit): add,
change, enable, disable, delete — leads only (``Role.LEAD`` and above), one audit row per
change with what it was before and after.

* A trigger starts an **after-incident** playbook on an incident event; a schedule fires a
  **before-incident** one on a cron slot. The other way round is refused with a field error on
  ``playbook`` (an exposure check started by every new incident, or a ransomware response run
  every morning on no incident, is a mistake a lead wants to be told about). The check is made
  on the current version, on every add, change and enabling (a newer version may have changed
  ``playbook_types``); a revoked playbook takes no new trigger or schedule.
* A trigger may be scoped to vigilance centres (``conditions.centres``: the incident's centre is
  one of them); a schedule to a centre's constituency (``centre``, a slug: the organisations it
  answers for when the schedule fires) instead of ``organisation_ids`` — not both (refused
  under ``centre``).
* Input errors are one :class:`core.errors.ValidationFailed` naming each field
  (``conditions.types``, ``cron``, ``organisation_ids``, ``centre``) with a
  :class:`core.errors.Message` the pages translate; nothing is written.
* A schedule's ``next_fire_at`` is computed from now whenever its cron expression, time zone or
  state changes (``None`` while disabled: a re-enabled schedule does not fire the slots it
  missed), so the firing job, which reads it on each run, follows every change without a restart.
* Deleting keeps the runs: their ``trigger_id``/``schedule_id`` is set to null, then the row is
  deleted. A soft delete (a hidden, disabled row) was not chosen: every reader of the two tables
  (the firing job, the event handlers, the pages) would have to filter hidden rows forever, and a
  forgotten filter fires a deleted schedule. The run keeps its origin (``trigger``/``schedule``)
  and its ``dedupe_key`` (which names the old id); the audit row of the deletion keeps the whole
  trigger or schedule as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.errors import NotFound, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor, require
from core.identity.centres import Centre
from core.identity.models import Role
from playbooks.audit import PlaybookAction
from playbooks.automation.inputs import (
    audit_change,
    check_centres,
    check_organisations,
    check_phase,
    check_sectors,
    schedule_centre,
    validated,
)
from playbooks.automation.inputs import centre_slugs as centre_slugs
from playbooks.automation.inputs import current_playbook as current_playbook
from playbooks.automation.inputs import sectors_in_use as sectors_in_use
from playbooks.automation.schemas import ScheduleIn, ScheduleOut, TriggerIn, TriggerOut
from playbooks.models import Phase, PlaybookRun, PlaybookSchedule, PlaybookTrigger
from playbooks.rules.cron import next_fire
from playbooks.settings import PlaybookSettings


# ---------------------------------------------------------------- triggers
def trigger_snapshot(trigger: PlaybookTrigger) -> dict[str, Any]:
    return {
        "cacao_id": trigger.cacao_id,
        "event": trigger.event.value,
        "conditions": dict(trigger.conditions),
        "enabled": trigger.enabled,
    }


def _trigger_values(
    session: Session, cacao_id: str, data: Mapping[str, Any] | TriggerIn
) -> TriggerIn:
    given = validated(TriggerIn, data, "trigger")
    errors: dict[str, str] = {}
    check_phase(session, cacao_id, Phase.AFTER, errors)
    errors |= given.conditions.problems(given.event)
    ids = given.conditions.organisation_ids
    errors |= check_organisations(session, ids, "conditions.organisation_ids")
    errors |= check_sectors(session, given.conditions.sectors)
    errors |= check_centres(session, given.conditions.centres)
    if errors:
        raise ValidationFailed("invalid trigger", fields=errors)
    return given


def get_trigger(session: Session, trigger_id: int) -> PlaybookTrigger:
    trigger = session.get(PlaybookTrigger, trigger_id)
    if trigger is None:
        raise NotFound(f"no trigger {trigger_id}")
    return trigger


def list_triggers(session: Session, cacao_id: str | None = None) -> list[PlaybookTrigger]:
    query = select(PlaybookTrigger).order_by(PlaybookTrigger.cacao_id, PlaybookTrigger.id)
    if cacao_id is not None:
        query = query.where(PlaybookTrigger.cacao_id == cacao_id)
    return list(session.scalars(query))


def add_trigger(
    session: Session,
    actor: Actor,
    cacao_id: str,
    data: Mapping[str, Any] | TriggerIn,
    *,
    clock: Clock,
) -> PlaybookTrigger:
    """A new trigger of the after-incident playbook ``cacao_id``."""
    require(actor, Role.LEAD, "adding a trigger")
    given = _trigger_values(session, cacao_id, data)
    trigger = PlaybookTrigger(
        cacao_id=cacao_id,
        event=given.event,
        conditions=given.conditions.stored(),
        enabled=given.enabled,
        created_at=clock.now(),
        created_by_id=actor.user_id,
    )
    session.add(trigger)
    session.flush()
    after = trigger_snapshot(trigger)
    audit.record(session, actor, PlaybookAction.TRIGGER_CREATE, "playbook_trigger", trigger.id,
                 clock=clock, after=after)  # fmt: skip
    return trigger


def update_trigger(
    session: Session,
    actor: Actor,
    trigger: PlaybookTrigger,
    data: Mapping[str, Any] | TriggerIn,
    *,
    clock: Clock,
) -> PlaybookTrigger:
    """Replace the trigger's event, conditions and state (audited when something changed)."""
    require(actor, Role.LEAD, "changing a trigger")
    given = _trigger_values(session, trigger.cacao_id, data)
    before = trigger_snapshot(trigger)
    trigger.event, trigger.enabled = given.event, given.enabled
    trigger.conditions = given.conditions.stored()
    audit_change(session, actor, PlaybookAction.TRIGGER_UPDATE, "playbook_trigger", trigger.id,
             before, trigger_snapshot(trigger), trigger, clock)  # fmt: skip
    return trigger


def set_trigger_enabled(
    session: Session, actor: Actor, trigger: PlaybookTrigger, enabled: bool, *, clock: Clock
) -> bool:
    """Enable or disable ``trigger``; whether it changed (audited only then)."""
    require(actor, Role.LEAD, "enabling or disabling a trigger")
    if trigger.enabled == enabled:
        return False
    if enabled:
        errors: dict[str, str] = {}
        check_phase(session, trigger.cacao_id, Phase.AFTER, errors)
        if errors:
            raise ValidationFailed("the trigger cannot be enabled", fields=errors)
    trigger.enabled = enabled
    audit_change(session, actor, PlaybookAction.TRIGGER_UPDATE, "playbook_trigger", trigger.id,
             {"enabled": not enabled}, {"enabled": enabled}, trigger, clock)  # fmt: skip
    return True


def delete_trigger(
    session: Session, actor: Actor, trigger: PlaybookTrigger, *, clock: Clock
) -> None:
    """Delete ``trigger``; its runs stay, with no trigger (see the module docstring)."""
    require(actor, Role.LEAD, "deleting a trigger")
    before, trigger_id = trigger_snapshot(trigger), trigger.id
    session.execute(
        update(PlaybookRun).where(PlaybookRun.trigger_id == trigger_id).values(trigger_id=None)
    )
    session.delete(trigger)
    session.flush()
    audit.record(session, actor, PlaybookAction.TRIGGER_DELETE, "playbook_trigger", trigger_id,
                 clock=clock, before=before)  # fmt: skip


def last_started(session: Session, trigger_ids: list[int]) -> dict[int, dt.datetime]:
    """When each trigger last started a run (triggers that never did are left out)."""
    if not trigger_ids:
        return {}
    query = (
        select(PlaybookRun.trigger_id, func.max(PlaybookRun.started_at))
        .where(PlaybookRun.trigger_id.in_(trigger_ids))
        .group_by(PlaybookRun.trigger_id)
    )
    return {tid: at for tid, at in session.execute(query) if tid is not None}


# ---------------------------------------------------------------- schedules
def schedule_snapshot(schedule: PlaybookSchedule) -> dict[str, Any]:
    return {
        "cacao_id": schedule.cacao_id,
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "organisation_ids": schedule.organisation_ids,
        "centre": schedule.centre.slug if schedule.centre is not None else None,
        "enabled": schedule.enabled,
        "next_fire_at": schedule.next_fire_at,
    }


def _schedule_values(
    session: Session,
    cacao_id: str,
    data: Mapping[str, Any] | ScheduleIn,
    settings: PlaybookSettings,
    now: dt.datetime,
) -> tuple[ScheduleIn, Centre | None, str, dt.datetime]:
    """The checked input, its centre, its time zone and its next slot after ``now``."""
    given = validated(ScheduleIn, data, "schedule")
    errors: dict[str, str] = {}
    check_phase(session, cacao_id, Phase.BEFORE, errors)
    errors |= check_organisations(session, given.organisation_ids, "organisation_ids")
    centre = schedule_centre(session, given.centre, given.organisation_ids, errors)
    timezone = given.timezone or settings.timezone
    slot = now
    try:
        slot = next_fire(given.cron, timezone, now)
    except ValueError:
        errors["cron"] = N_("%(value)s never fires", value=repr(given.cron))
    if errors:
        raise ValidationFailed("invalid schedule", fields=errors)
    return given, centre, timezone, slot


def get_schedule(
    session: Session, schedule_id: int, *, for_update: bool = False
) -> PlaybookSchedule:
    """The schedule (locked against the firing job until the commit with ``for_update``)."""
    schedule = session.get(PlaybookSchedule, schedule_id, with_for_update=for_update)
    if schedule is None:
        raise NotFound(f"no schedule {schedule_id}")
    return schedule


def list_schedules(session: Session, cacao_id: str | None = None) -> list[PlaybookSchedule]:
    query = select(PlaybookSchedule).order_by(PlaybookSchedule.cacao_id, PlaybookSchedule.id)
    if cacao_id is not None:
        query = query.where(PlaybookSchedule.cacao_id == cacao_id)
    return list(session.scalars(query))


def add_schedule(
    session: Session,
    actor: Actor,
    cacao_id: str,
    data: Mapping[str, Any] | ScheduleIn,
    *,
    clock: Clock,
    settings: PlaybookSettings,
) -> PlaybookSchedule:
    """A new schedule of the before-incident playbook ``cacao_id``, due at its next slot."""
    require(actor, Role.LEAD, "adding a schedule")
    now = clock.now()
    given, centre, timezone, slot = _schedule_values(session, cacao_id, data, settings, now)
    schedule = PlaybookSchedule(
        cacao_id=cacao_id,
        cron=given.cron,
        timezone=timezone,
        organisation_ids=given.organisation_ids,
        centre=centre,
        enabled=given.enabled,
        next_fire_at=slot if given.enabled else None,
        created_at=now,
        created_by_id=actor.user_id,
    )
    session.add(schedule)
    session.flush()
    audit.record(session, actor, PlaybookAction.SCHEDULE_CREATE, "playbook_schedule", schedule.id,
                 clock=clock, after=schedule_snapshot(schedule))  # fmt: skip
    return schedule


def update_schedule(
    session: Session,
    actor: Actor,
    schedule: PlaybookSchedule,
    data: Mapping[str, Any] | ScheduleIn,
    *,
    clock: Clock,
    settings: PlaybookSettings,
) -> PlaybookSchedule:
    """Replace the schedule's cron, time zone, organisations or centre, and state; its next slot
    is computed again from now (see the module docstring)."""
    require(actor, Role.LEAD, "changing a schedule")
    now = clock.now()
    given, centre, timezone, slot = _schedule_values(
        session, schedule.cacao_id, data, settings, now
    )
    before = schedule_snapshot(schedule)
    schedule.cron, schedule.timezone = given.cron, timezone
    schedule.organisation_ids, schedule.enabled = given.organisation_ids, given.enabled
    schedule.centre = centre
    timing = (before["cron"], before["timezone"], before["enabled"])
    if timing != (schedule.cron, schedule.timezone, schedule.enabled):
        schedule.next_fire_at = slot if schedule.enabled else None
    audit_change(session, actor, PlaybookAction.SCHEDULE_UPDATE, "playbook_schedule", schedule.id,
             before, schedule_snapshot(schedule), schedule, clock)  # fmt: skip
    return schedule


def set_schedule_enabled(
    session: Session,
    actor: Actor,
    schedule: PlaybookSchedule,
    enabled: bool,
    *,
    clock: Clock,
) -> bool:
    """Enable (due at its next slot from now) or disable ``schedule``; whether it changed."""
    require(actor, Role.LEAD, "enabling or disabling a schedule")
    if schedule.enabled == enabled:
        return False
    before = schedule_snapshot(schedule)
    if enabled:
        errors: dict[str, str] = {}
        check_phase(session, schedule.cacao_id, Phase.BEFORE, errors)
        if errors:
            raise ValidationFailed("the schedule cannot be enabled", fields=errors)
        schedule.next_fire_at = next_fire(schedule.cron, schedule.timezone, clock.now())
    else:
        schedule.next_fire_at = None
    schedule.enabled = enabled
    audit_change(session, actor, PlaybookAction.SCHEDULE_UPDATE, "playbook_schedule", schedule.id,
             before, schedule_snapshot(schedule), schedule, clock)  # fmt: skip
    return True


def delete_schedule(
    session: Session, actor: Actor, schedule: PlaybookSchedule, *, clock: Clock
) -> None:
    """Delete ``schedule``; its runs stay, with no schedule (see the module docstring)."""
    require(actor, Role.LEAD, "deleting a schedule")
    before, schedule_id = schedule_snapshot(schedule), schedule.id
    session.execute(
        update(PlaybookRun).where(PlaybookRun.schedule_id == schedule_id).values(schedule_id=None)
    )
    session.delete(schedule)
    session.flush()
    audit.record(session, actor, PlaybookAction.SCHEDULE_DELETE, "playbook_schedule", schedule_id,
                 clock=clock, before=before)  # fmt: skip


# ---------------------------------------------------------------- what the API and CLI show
def trigger_out(session: Session, trigger: PlaybookTrigger) -> TriggerOut:
    playbook = current_playbook(session, trigger.cacao_id)
    return TriggerOut(
        id=trigger.id,
        cacao_id=trigger.cacao_id,
        playbook_id=playbook.id if playbook else None,
        playbook_name=playbook.name if playbook else None,
        event=trigger.event,
        conditions=dict(trigger.conditions),
        enabled=trigger.enabled,
        created_at=trigger.created_at,
        updated_at=trigger.updated_at,
        last_fired_at=last_started(session, [trigger.id]).get(trigger.id),
    )


def schedule_out(session: Session, schedule: PlaybookSchedule) -> ScheduleOut:
    playbook = current_playbook(session, schedule.cacao_id)
    values = {name: getattr(schedule, name) for name in ScheduleOut.model_fields
              if name not in ("playbook_id", "playbook_name", "centre")}  # fmt: skip
    return ScheduleOut(
        **values,
        centre=schedule.centre.slug if schedule.centre is not None else None,
        playbook_id=playbook.id if playbook else None,
        playbook_name=playbook.name if playbook else None,
    )
