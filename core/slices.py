"""The slice manifest (web kit): what a domain package contributes to the application.

Each slice exposes one :class:`Slice` (``incidents/slice.py: SLICE``); the application lists the
slices once (:data:`cert.slices_list.SLICES`) and its composition roots loop over them: the app
factory registers the blueprints and builds the slice's settings, the ``cert`` command line adds
the commands, the scheduler registers the jobs, Alembic's environment imports the model modules
and the event dispatcher runs the handlers. Nothing below the application imports the list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import click
from flask import Blueprint, Flask

from core.config import Config
from core.events import EventName, Handler


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
      ``handlers``: its subscribers, run by the scheduler's ``events.deliver`` job.
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

    def init_app(self, app: Flask, config: Config) -> None:
        """Register the HTML blueprints and build the settings into ``app.extensions[name]``
        (the API blueprints are nested by :func:`core.api.register`)."""
        for blueprint in self.pages:
            app.register_blueprint(blueprint)
        if self.settings is not None:
            app.extensions[self.name] = self.settings(config)
