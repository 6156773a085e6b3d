"""The playbooks slice's tables (typed ORM, Flask-free; migration 0029).

* ``playbooks``: one row per *version* of an OASIS CACAO 2.0 playbook — the document stored
  verbatim (``document``, the JSON text as imported), with what the lists and the engine need
  read out of it (CACAO ``id``, ``modified``, name, types, phase). Versions of one playbook share
  ``cacao_id`` and are told apart by ``modified``; exactly one is ``current`` (the latest
  imported, unless revoked). ``enabled`` belongs to the playbook (every version), so it is kept
  on each row and changed on all of them together.
* ``playbook_triggers``: an after-incident playbook started by an incident event
  (:class:`TriggerEvent`) when its ``conditions`` hold (RSIT class/type, priority at least,
  TLP, organisations, sectors, statuses). Attached to the playbook (``cacao_id``): the current
  version runs.
* ``playbook_schedules``: a before-incident playbook fired on a cron expression in a time
  zone, for every organisation or a chosen set (``organisation_ids``); ``next_fire_at`` is the
  next slot, the job fires due schedules and moves it on.
* ``playbook_runs``: one execution of one version — on an incident, for an organisation, or
  on its own — with its origin, its engine ``state`` (threads of execution, variables), budget
  counters and outcome. ``dedupe_key`` (unique) makes starting idempotent: a trigger starts at
  most one run per (trigger, event), a schedule one per (schedule, slot, organisation).
* ``playbook_step_runs``: every step a run executed, in order (``seq`` unique per run): inputs,
  outputs, result, error, and the task a manual command became. A step is recorded in the
  transaction of its effects, so a step whose record exists has run once, and one without has
  not run at all (see :mod:`playbooks.engine`).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, StrEnumType
from core.identity.centres import Centre

MAX_NAME = 300
MAX_CACAO_ID = 80  # "playbook--" + a 36-character UUID
MAX_STEP_ID = 120  # "<step-type>--" + UUID, or any key an imported document uses


class Phase(enum.StrEnum):
    """When a playbook runs (``playbook_types`` decide it; see :mod:`playbooks.rules.cacao`)."""

    BEFORE = "before"  # before incidents: prevention, detection, notification — on schedules
    AFTER = "after"  # after incidents: investigation, mitigation, remediation — on triggers


class TriggerEvent(enum.StrEnum):
    """The incident events an after-incident playbook can attach to."""

    CREATED = "created"  # incident.submitted
    CLASSIFIED = "classified"  # incident.classified (RSIT class/type set by an analyst)
    PRIORITY = "priority"  # incident.priority_changed
    MARKINGS = "markings"  # incident.markings_changed (TLP/PAP)
    STATUS = "status"  # incident.status_changed
    INTEL_MATCH = "intel-match"  # incident.intel_matched (a threat match found)


class RunOrigin(enum.StrEnum):
    TRIGGER = "trigger"  # an incident event met a trigger
    SCHEDULE = "schedule"  # a schedule's slot
    MANUAL = "manual"  # an analyst started it (UI, API, CLI)
    PLAYBOOK = "playbook"  # a playbook-action step of another run


class RunStatus(enum.StrEnum):
    PENDING = "pending"  # created, not advanced yet
    RUNNING = "running"  # has steps it can run now
    WAITING = "waiting"  # every thread waits: a task to be done, a delay, a child run
    COMPLETED = "completed"
    FAILED = "failed"  # a step failed with no on_failure, a budget ran out, an error
    CANCELLED = "cancelled"  # stopped by a lead

    @property
    def finished(self) -> bool:
        return self in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)


ACTIVE_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.WAITING)


class StepStatus(enum.StrEnum):
    COMPLETED = "completed"  # ran and succeeded (or a control step was evaluated)
    FAILED = "failed"  # ran and failed (its on_failure, if any, was taken)
    WAITING = "waiting"  # ran, waits for a task to be done, a delay or a child run
    INTERRUPTED = "interrupted"  # an external call started and its outcome is unknown


class Playbook(Base):
    """One version of a CACAO playbook (see the module docstring)."""

    __tablename__ = "playbooks"
    __table_args__ = (
        UniqueConstraint("cacao_id", "modified"),
        Index("ix_playbooks_current_phase", "current", "phase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cacao_id: Mapped[str] = mapped_column(String(MAX_CACAO_ID), index=True)
    modified: Mapped[dt.datetime]  # the document's ``modified`` (UTC)
    created: Mapped[dt.datetime]  # the document's ``created``
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    description: Mapped[str | None] = mapped_column(Text)
    playbook_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    phase: Mapped[Phase] = mapped_column(StrEnumType(Phase, 8))
    document: Mapped[str] = mapped_column(Text)  # the CACAO JSON, verbatim as imported
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of ``document``
    revoked: Mapped[bool] = mapped_column(default=False)
    current: Mapped[bool] = mapped_column(default=True)  # the version that runs
    enabled: Mapped[bool] = mapped_column(default=True)  # triggers and schedules fire
    builtin: Mapped[str | None] = mapped_column(String(64))  # key in the built-in library
    imported_at: Mapped[dt.datetime]
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PlaybookTrigger(Base):
    """An incident event that starts the current version of ``cacao_id`` when ``conditions``
    hold. ``conditions`` keys (all optional, all must hold): ``categories`` (RSIT class ids),
    ``types`` (RSIT type ids), ``min_priority`` ("P1".."P4": at least as urgent), ``tlp``
    (labels), ``organisation_ids``, ``sectors``, ``centres`` (vigilance centre slugs: the
    incident's centre), ``statuses`` (for ``status``: the new one)."""

    __tablename__ = "playbook_triggers"

    id: Mapped[int] = mapped_column(primary_key=True)
    cacao_id: Mapped[str] = mapped_column(String(MAX_CACAO_ID), index=True)
    event: Mapped[TriggerEvent] = mapped_column(StrEnumType(TriggerEvent, 16), index=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime | None]


class PlaybookSchedule(Base):
    """A before-incident playbook fired on ``cron`` (five fields, in ``timezone``), once per
    organisation of ``organisation_ids`` (``None``: every active organisation) or, with
    ``centre_id``, of that vigilance centre's constituency as it is when it fires (the two are
    mutually exclusive)."""

    __tablename__ = "playbook_schedules"
    __table_args__ = (Index("ix_playbook_schedules_due", "enabled", "next_fire_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cacao_id: Mapped[str] = mapped_column(String(MAX_CACAO_ID), index=True)
    cron: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    organisation_ids: Mapped[list[int] | None] = mapped_column(JSON)
    # a vigilance centre's constituency instead of organisation_ids (``None``: not scoped)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    enabled: Mapped[bool] = mapped_column(default=True)
    next_fire_at: Mapped[dt.datetime | None]
    last_fired_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime | None]

    centre: Mapped[Centre | None] = relationship(lazy="selectin")  # (FOR UPDATE: no join)


class PlaybookRun(Base):
    """One execution of a playbook version (see the module docstring)."""

    __tablename__ = "playbook_runs"
    __table_args__ = (
        Index("ix_playbook_runs_status_wake", "status", "wake_at"),
        Index("ix_playbook_runs_incident", "incident_id", "id"),
        Index("ix_playbook_runs_playbook", "playbook_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook_id: Mapped[int] = mapped_column(ForeignKey("playbooks.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    origin: Mapped[RunOrigin] = mapped_column(StrEnumType(RunOrigin, 16))
    trigger_id: Mapped[int | None] = mapped_column(ForeignKey("playbook_triggers.id"))
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("playbook_schedules.id"))
    parent_run_id: Mapped[int | None] = mapped_column(ForeignKey("playbook_runs.id"))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[RunStatus] = mapped_column(StrEnumType(RunStatus, 16))
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the engine's
    steps_done: Mapped[int] = mapped_column(default=0)  # step budget spent
    wake_at: Mapped[dt.datetime | None]  # when a waiting run is next looked at
    deadline_at: Mapped[dt.datetime]  # time budget: failed when still running after it
    started_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    playbook: Mapped[Playbook] = relationship()


class PlaybookStepRun(Base):
    """One step a run executed (see the module docstring)."""

    __tablename__ = "playbook_step_runs"
    __table_args__ = (
        UniqueConstraint("run_id", "seq"),
        Index("ix_playbook_step_runs_task", "task_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("playbook_runs.id", ondelete="CASCADE"))
    seq: Mapped[int]  # 1, 2, … in the order the engine ran them
    step_id: Mapped[str] = mapped_column(String(MAX_STEP_ID))
    step_type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(MAX_NAME))
    thread: Mapped[str] = mapped_column(String(200), default="")  # the parallel branch path
    status: Mapped[StepStatus] = mapped_column(StrEnumType(StepStatus, 16))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[str | None] = mapped_column(String(300))  # a short line: "task #12 created"
    error: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_tasks.id", ondelete="SET NULL")
    )
    child_run_id: Mapped[int | None] = mapped_column(ForeignKey("playbook_runs.id"))
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]


class ExposureHit(Base):
    """An indicated value an organisation's registered asset met in an exposure check
    (:mod:`playbooks.actions.exposure`; migration 0030): reported once — the first check that
    finds it puts it in that day's exposure incident (``incident_id``), later checks skip it."""

    __tablename__ = "playbook_exposure_hits"
    __table_args__ = (UniqueConstraint("organisation_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # the indicator value's kind: domain, ipv4…
    value: Mapped[str] = mapped_column(String(2048))  # as the index stores it
    indicator_id: Mapped[int | None] = mapped_column(
        ForeignKey("indicators.id", ondelete="SET NULL")
    )
    asset: Mapped[str] = mapped_column(String(255))  # the registered domain or range it met
    first_seen_at: Mapped[dt.datetime]
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )


class ContactConfirmation(Base):
    """When an organisation last confirmed one of its contact addresses
    (``organisations.contact_emails``; migration 0030): the contact review
    (:mod:`playbooks.actions.reviews`) asks for the others."""

    __tablename__ = "contact_confirmations"
    __table_args__ = (UniqueConstraint("organisation_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))  # lower-case
    confirmed_at: Mapped[dt.datetime]
