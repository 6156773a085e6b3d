"""Advancing runs (Flask-free use case; the transactions are its own, like a job's).

:func:`advance_run` takes one run as far as it can go now, in transactions of its own:

* the run's row is locked first (PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED``: a run another
  process is advancing is skipped; SQLite: the write transaction, ``BEGIN IMMEDIATE``);
* the steps that only touch the database run in **one** transaction with their step records and
  the run's state: a crash before the commit leaves none of them, so nothing kept is re-run;
* a step whose command acts outside the database (an executor registered ``external``) is first
  recorded ``interrupted`` and committed; the call then runs in a new transaction that records
  its outcome. A crash in between leaves the record ``interrupted``: on resume that step is never
  called again, it fails with "interrupted: not repeated" (its ``on_failure`` is taken).

:func:`advance_due_runs` (the ``playbooks.advance`` job) advances, in batches, the runs that are
pending or running, waiting with ``wake_at`` reached, or past their deadline (failed).
"""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.db import SessionFactory
from core.errors import MAX_ERROR_LENGTH, describe
from core.identity.authz import Actor
from core.uow import transaction
from playbooks.engine.runs import finish_run
from playbooks.engine.steps import Stepper
from playbooks.models import ACTIVE_STATUSES, PlaybookRun, RunStatus
from playbooks.settings import PlaybookSettings

log = logging.getLogger(__name__)

STEPS_PER_CALL = 200  # one advance_run does at most this many steps; the rest at the next tick
BATCH = 100
MAX_BATCHES = 20
VISITS = 3  # times one call of advance_due_runs may take up the same run


def _lock(session: Session, run_id: int) -> PlaybookRun | None:
    return session.scalar(
        select(PlaybookRun)
        .where(PlaybookRun.id == run_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def advance_run(
    session_factory: SessionFactory,
    run_id: int,
    *,
    clock: Clock,
    settings: PlaybookSettings,
    limit: int = STEPS_PER_CALL,
) -> RunStatus | None:
    """Advance run ``run_id`` as far as it goes now; its status after, or ``None`` when it is
    locked by another process (or gone)."""
    pending: str | None = None
    done = 0
    while True:
        with transaction(session_factory, write=True) as session:
            run = _lock(session, run_id)
            if run is None:
                return None
            if run.status.finished:
                return run.status
            stepper = Stepper(session, run, clock=clock, settings=settings)
            before = run.steps_done
            if pending is not None:
                stepper.finish_external(pending)
            pending = stepper.advance(max(limit - done, 0)) if not stepper.finished else None
            if pending is not None:
                stepper.begin_external(pending)
            stepper.save()
            done += run.steps_done - before
            status = run.status
        if pending is None:
            return status


def due_runs(session: Session, *, clock: Clock, limit: int) -> list[int]:
    """Ids of the runs to advance now: pending or running, waiting and woken, or past their
    deadline; the longest-waiting first."""
    now = clock.now()
    query = (
        select(PlaybookRun.id)
        .where(
            or_(
                PlaybookRun.status.in_((RunStatus.PENDING, RunStatus.RUNNING)),
                and_(PlaybookRun.status == RunStatus.WAITING, PlaybookRun.wake_at <= now),
                and_(PlaybookRun.status.in_(ACTIVE_STATUSES), PlaybookRun.deadline_at <= now),
            )
        )
        .order_by(PlaybookRun.wake_at, PlaybookRun.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def advance_due_runs(
    session_factory: SessionFactory,
    *,
    clock: Clock,
    settings: PlaybookSettings,
    limit: int = BATCH,
) -> dict[str, int]:
    """Advance every due run (batches of ``limit``); counts by outcome."""
    counts = {"advanced": 0, "completed": 0, "failed": 0, "waiting": 0, "running": 0,
              "cancelled": 0, "skipped": 0, "errors": 0}  # fmt: skip
    seen: Counter[int] = Counter()  # a parent woken by its child goes on in the same call
    final: dict[int, RunStatus] = {}  # each run's status after its last advance
    skipped: set[int] = set()
    for _ in range(MAX_BATCHES):
        with transaction(session_factory) as session:
            due = due_runs(session, clock=clock, limit=limit)
            ids = [i for i in due if seen[i] < VISITS]
        if not ids:
            break
        for run_id in ids:
            seen[run_id] += 1
            try:
                status = advance_run(session_factory, run_id, clock=clock, settings=settings)
            except Exception as exc:  # one broken run must not stop the others
                log.exception("playbook run %d: engine error", run_id)
                _fail(session_factory, run_id, exc, clock=clock)
                counts["errors"] += 1
                continue
            if status is None:  # another process has it: not again in this call
                seen[run_id] = VISITS
                skipped.add(run_id)
                continue
            final[run_id] = status
    for status in final.values():
        counts["advanced"] += 1
        counts[str(status) if str(status) in counts else "running"] += 1
    counts["skipped"] = len(skipped - set(final))
    return counts


def _fail(session_factory: SessionFactory, run_id: int, exc: Exception, *, clock: Clock) -> None:
    error = f"engine error: {describe(exc)}"[:MAX_ERROR_LENGTH]
    with transaction(session_factory, write=True) as session:
        run = _lock(session, run_id)
        if run is not None and not run.status.finished:
            finish_run(session, run, RunStatus.FAILED, error, clock=clock,
                       actor=Actor.system(f"playbook-run:{run_id}"))  # fmt: skip
