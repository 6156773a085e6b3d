"""Firing schedules (Flask-free use cases; the scheduler's ``playbooks.fire_schedules`` job and
``cert playbooks fire``).

:func:`fire_due_schedules` takes each enabled schedule whose ``next_fire_at`` has come, in its
own transaction: when the playbook's current version is enabled and not revoked, it starts one
run per target organisation (the constituency of its vigilance centre, ``organisation_ids``, or
every organisation but the CERT itself)
with the dedupe key ``schedule:<id>:<slot>:<organisation id>`` — a slot fired twice (a leader
that failed over mid-way) starts nothing twice. ``next_fire_at`` then moves to the first slot
after *now*: the slots missed while the scheduler was down fire once, not once each. A schedule
whose ``next_fire_at`` is empty (new, or edited: the CRUD clears it) gets it computed, so that a
change is picked up without a restart.

:func:`run_schedule_now` starts a schedule's runs at once (a lead's "run now"), under fresh
``manual:<uuid>:<organisation id>`` keys.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.auth.centres import constituency_clause
from core.clock import Clock
from core.db import SessionFactory, is_postgres
from core.errors import PermissionDenied, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor, at_least
from core.identity.models import Organisation, OrganisationKind, Role
from core.uow import transaction
from playbooks.audit import PlaybookAction
from playbooks.engine.runs import start_run
from playbooks.models import Playbook, PlaybookRun, PlaybookSchedule, RunOrigin
from playbooks.rules.cron import next_fire
from playbooks.settings import PlaybookSettings

log = logging.getLogger(__name__)


def fire_due_schedules(
    session_factory: SessionFactory,
    *,
    clock: Clock,
    settings: PlaybookSettings,
    limit: int = 100,
    only: int | None = None,
) -> dict[str, int]:
    """Fire every due schedule (at most ``limit``; ``only``: that schedule if due); counts."""
    counts = {"scheduled": 0, "fired": 0, "runs": 0, "skipped": 0, "invalid": 0}
    now = clock.now()
    with transaction(session_factory, write=True) as session:
        counts["scheduled"], counts["invalid"] = _schedule_unscheduled(session, now)
    query = (
        select(PlaybookSchedule.id)
        .where(PlaybookSchedule.enabled.is_(True), PlaybookSchedule.next_fire_at <= now)
        .order_by(PlaybookSchedule.next_fire_at, PlaybookSchedule.id)
        .limit(limit)
    )
    if only is not None:
        query = query.where(PlaybookSchedule.id == only)
    with transaction(session_factory) as session:
        due = list(session.scalars(query))
    for schedule_id in due:
        with transaction(session_factory, write=True) as session:
            started = _fire(session, schedule_id, clock=clock, settings=settings)
        if started is None:
            continue
        counts["fired"] += 1
        counts["runs"] += started if started > 0 else 0
        counts["skipped"] += 1 if started < 0 else 0
    return counts


def _schedule_unscheduled(session: Session, now: dt.datetime) -> tuple[int, int]:
    scheduled = invalid = 0
    for schedule in session.scalars(
        select(PlaybookSchedule).where(
            PlaybookSchedule.enabled.is_(True), PlaybookSchedule.next_fire_at.is_(None)
        )
    ):
        try:
            schedule.next_fire_at = next_fire(schedule.cron, schedule.timezone, now)
            scheduled += 1
        except ValueError as exc:
            log.warning("playbook schedule %s: %s", schedule.id, exc)
            invalid += 1
    return scheduled, invalid


def _fire(
    session: Session, schedule_id: int, *, clock: Clock, settings: PlaybookSettings
) -> int | None:
    """Fire one due schedule: the runs started (-1: the playbook may not run; ``None``: no
    longer due — another scheduler fired it)."""
    query = select(PlaybookSchedule).where(PlaybookSchedule.id == schedule_id)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    schedule = session.scalar(query)
    now = clock.now()
    if schedule is None or schedule.next_fire_at is None or schedule.next_fire_at > now:
        return None
    slot = schedule.next_fire_at
    playbook = runnable_version(session, schedule.cacao_id)
    started = -1
    if playbook is not None:
        actor = Actor.system(f"playbook-schedule:{schedule.id}")
        started = 0
        for organisation in targets(session, schedule):
            key = f"schedule:{schedule.id}:{slot.isoformat()}:{organisation.id}"
            run = start_run(session, playbook, origin=RunOrigin.SCHEDULE, dedupe_key=key,
                            actor=actor, clock=clock, settings=settings,
                            organisation=organisation, schedule=schedule)  # fmt: skip
            started += run is not None
    try:
        schedule.next_fire_at = next_fire(schedule.cron, schedule.timezone, now)
    except ValueError as exc:  # edited into an expression that never fires again
        log.warning("playbook schedule %s: %s", schedule.id, exc)
        schedule.next_fire_at = None
    schedule.last_fired_at = now
    session.flush()
    return started


def runnable_version(session: Session, cacao_id: str) -> Playbook | None:
    """The current version of a playbook when it is enabled and not revoked."""
    return session.scalar(
        select(Playbook).where(
            Playbook.cacao_id == cacao_id,
            Playbook.current.is_(True),
            Playbook.enabled.is_(True),
            Playbook.revoked.is_(False),
        )
    )


def targets(session: Session, schedule: PlaybookSchedule) -> list[Organisation]:
    """The organisations a schedule runs for: its centre's constituency as it is now, its
    chosen ones, or all but the CERT."""
    query = select(Organisation).order_by(Organisation.id)
    if schedule.centre is not None:
        query = query.where(constituency_clause(schedule.centre))
    elif schedule.organisation_ids is not None:
        query = query.where(Organisation.id.in_(schedule.organisation_ids))
    else:
        query = query.where(Organisation.kind != OrganisationKind.CERT)
    return list(session.scalars(query))


def run_schedule_now(
    session: Session,
    actor: Actor,
    schedule: PlaybookSchedule,
    *,
    clock: Clock,
    settings: PlaybookSettings,
) -> list[PlaybookRun]:
    """Start a schedule's runs now, for each of its organisations (leads)."""
    if not at_least(actor, Role.LEAD):
        raise PermissionDenied("running a schedule needs the lead role")
    playbook = session.scalar(
        select(Playbook).where(Playbook.cacao_id == schedule.cacao_id, Playbook.current.is_(True))
    )
    if playbook is None or playbook.revoked:
        raise ValidationFailed(
            "playbook not runnable",
            fields={"playbook": N_("this schedule's playbook is revoked or missing")},
        )
    batch = uuid.uuid4()
    runs: list[PlaybookRun] = []
    for organisation in targets(session, schedule):
        key = f"manual:{batch}:{organisation.id}"
        run = start_run(session, playbook, origin=RunOrigin.MANUAL, dedupe_key=key, actor=actor,
                        clock=clock, settings=settings, organisation=organisation,
                        schedule=schedule)  # fmt: skip
        if run is not None:
            runs.append(run)
    audit.record(session, actor, PlaybookAction.RUN_START, "playbook_schedule", str(schedule.id),
                 clock=clock, after={"runs": [r.id for r in runs]})  # fmt: skip
    return runs
