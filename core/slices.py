"""The slice manifest (web kit): what a domain package contributes to the application.

Each slice exposes one :class:`Slice` (``incidents/slice.py: SLICE``); the application lists the
slices once (:data:`cert.slices_list.SLICES`) and its composition roots loop over them: the app
factory registers the blueprints and builds the slice's settings, the ``cert`` command line adds
the commands, the scheduler registers the jobs, Alembic's environment imports the model modules,
the event dispatcher runs the handlers and ``cert demo`` seeds the demo data. Nothing below the
application imports the list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType

import click
from flask import Blueprint, Flask
from sqlalchemy.orm import Session

from core.clock import Clock
from core.config import Config
from core.events import EventName, Handler
from core.identity.authz import Actor
from core.observability.database import Source
from core.web import panels as web_panels

DemoSeed = Callable[[Session, Actor, Clock, Config], str]
DemoBulk = Callable[[Session, Actor, Clock, Config, int, int], Sequence[str]]


@dataclass(frozen=True)
class Job:
    """A recurring job of a slice: ``target`` ("module:function") takes a
    :class:`core.jobs.JobContext` and returns counts; ``interval`` names the :class:`Config`
    field holding its period in seconds (``CERT_*``), or is a fixed number of seconds."""

    name: str
    target: str
    interval: str | int

    def __post_init__(self) -> None:
        if ":" not in self.target:
            raise ValueError(f"job {self.name}: target must be 'module:function'")


@dataclass(frozen=True)
class Demo:
    """A slice's part of ``cert demo``; both run in the command's transaction (the caller commits).

    * ``seed(session, actor, clock, config)``: add the slice's realistic demo records that are
      absent (idempotent, after the demo organisations and users) and return one summary line;
    * ``bulk(session, actor, clock, config, count, seed)``: add ``count`` synthetic records for
      load work (``cert demo --incidents N``, random generator seeded with ``seed``) and return
      the lines to print.
    """

    seed: DemoSeed | None = None
    bulk: DemoBulk | None = None


@dataclass(frozen=True)
class Slice:
    """What one domain package contributes; every field is optional but ``name``.

    * ``pages``: HTML blueprints, registered on the app as they are;
    * ``api``: API blueprints, nested under ``/api/v1`` (so they reach the OpenAPI document);
    * ``commands``: click commands or groups added to ``cert``;
    * ``jobs``: recurring jobs of the scheduler;
    * ``models``: the modules declaring its tables (imported modules: Alembic needs them loaded,
      import-linter sees them);
    * ``settings``: ``Config`` → the slice's settings object, built once at start-up and kept in
      ``app.extensions[name]`` (its adapters read it there);
    * ``events``: its event-name enumerations (importing their module registers the payloads);
      ``handlers``: its subscribers, run by the scheduler's ``events.deliver`` job;
    * ``demo``: its demo data for ``cert demo`` (:class:`Demo`);
    * ``panels``: parts it renders on lower slices' pages (:class:`core.web.panels.Panel`, e.g.
      the playbook runs on the incident file);
    * ``metrics``: its series for ``/metrics``, read at scrape time
      (:data:`core.observability.database.Source`: session, now → prometheus metric families).
    """

    name: str
    pages: tuple[Blueprint, ...] = ()
    api: tuple[Blueprint, ...] = ()
    commands: tuple[click.Command, ...] = ()
    jobs: tuple[Job, ...] = ()
    models: tuple[ModuleType, ...] = ()
    settings: Callable[[Config], object] | None = None
    events: tuple[type[EventName], ...] = ()
    handlers: tuple[Handler, ...] = ()
    demo: Demo | None = None
    panels: tuple[web_panels.Panel, ...] = ()
    metrics: Source | None = None

    def init_app(self, app: Flask, config: Config) -> None:
        """Register the HTML blueprints and panels, and build the settings into
        ``app.extensions[name]`` (the API blueprints are nested by :func:`core.api.register`)."""
        for blueprint in self.pages:
            app.register_blueprint(blueprint)
        for panel in self.panels:
            web_panels.register(app, panel)
        if self.settings is not None:
            app.extensions[self.name] = self.settings(config)
