"""The job registry and what a job run gets: :data:`JOBS`, the per-process :class:`JobContext`
and :func:`run_job`, the one function APScheduler calls (stored by reference in its job store).

The jobs themselves are registered by :mod:`cert.scheduler.adapters`: the kernel's own, then
every slice's (:data:`cert.slices_list.SLICES`).
"""

from __future__ import annotations

import importlib
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

from cert.slices_list import SLICES
from core.clock import SystemClock
from core.config import Config, load_config
from core.db import make_engine, make_session_factory
from core.jobs import JobContext as JobContext  # re-exported: jobs take one
from core.jobs import run_slot, slot_for

# ------------------------------------------------------------------ job registry
JobBody = Callable[["JobContext"], Mapping[str, int]]


@dataclass(frozen=True)
class ScheduledJob:
    """One recurring job: ``target`` ("module:function") takes a :class:`JobContext` and returns
    counts; ``interval`` is a number of seconds or the name of the :class:`Config` field holding it.
    """

    job_id: str
    target: str
    interval: int | str

    def interval_seconds(self, config: Config) -> int:
        value = getattr(config, self.interval) if isinstance(self.interval, str) else self.interval
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"job {self.job_id}: interval must be a positive int, got {value!r}")
        return value

    def resolve(self) -> JobBody:
        module, _, name = self.target.partition(":")
        return cast(JobBody, getattr(importlib.import_module(module), name))


JOBS: dict[str, ScheduledJob] = {}


def register_job(job_id: str, target: str, interval: int | str) -> ScheduledJob:
    """Add a job to :data:`JOBS`. Domain jobs get a small adapter (:mod:`cert.scheduler.adapters`)
    that builds their dependencies (mailer, HTTP clients, settings) from the :class:`JobContext`."""
    if ":" not in target:
        raise ValueError(f"job {job_id}: target must be 'module:function', got {target!r}")
    if job_id in JOBS:
        raise ValueError(f"job {job_id} is already registered")
    JOBS[job_id] = spec = ScheduledJob(job_id, target, interval)
    return spec


# ------------------------------------------------------------------ per-process job context
_PROCESS: dict[str, JobContext] = {}  # this process's context, under the key "context"


def open_context(config: Config) -> JobContext:
    """Build this process's context (engine, session factory, clock) and cache it."""
    engine = make_engine(config.database_url)
    context = JobContext(
        config=config,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=SystemClock(),
        runner=f"{socket.gethostname()}:{os.getpid()}",
        settings={s.name: s.settings(config) for s in SLICES if s.settings is not None},
    )
    close_context()
    _PROCESS["context"] = context
    return context


def close_context() -> None:
    context = _PROCESS.pop("context", None)
    if context is not None:
        context.engine.dispose()


def job_context() -> JobContext:
    """The cached context; built from the ``CERT_*`` environment if the process has none yet."""
    return _PROCESS.get("context") or open_context(load_config())


def run_job(job_id: str, interval_seconds: int) -> None:
    """APScheduler's entry point for every registered job (stored by reference; plain args)."""
    context = job_context()
    body = JOBS[job_id].resolve()
    run_slot(
        context.session_factory,
        job_id,
        slot_for(context.clock.now(), interval_seconds),
        lambda: body(context),
        clock=context.clock,
        runner=context.runner,
    )
