"""Slices plug in through their manifests (:mod:`core.slices`, :data:`cert.slices_list.SLICES`).

Every registered blueprint, scheduled job, ``cert`` command and table comes either from the
application's / kernel's own declared set or from a slice manifest: registering one by hand
fails here. A fake slice added to the list shows up in all four places, and its demo data in
``cert demo``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import pytest
from click.testing import CliRunner
from flask import Blueprint, Flask, jsonify
from flask.testing import FlaskClient
from pydantic import BaseModel
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from cert import accounts as views
from cert.app import create_app
from cert.cli import COMMAND_MODULES, cli, load_commands
from cert.cli import demo as demo_command
from cert.scheduler import JOBS, adapters
from cert.schema import KERNEL_MODELS
from cert.slices_list import SLICES
from core.api.openapi import Reply, operation
from core.auth import organisations
from core.clock import Clock, FrozenClock
from core.config import Config
from core.db import Base
from core.identity.authz import Actor
from core.identity.models import Organisation, Role, User
from core.jobs import JobContext
from core.slices import Demo, Job, Slice
from tests.dbs import TestDatabase
from tests.kit.factories import make_token, make_user

# The application's own blueprints: the /api/v1 container (core.api.register) and the sign-in
# pages (cert.accounts); everything else is a slice's.
KERNEL_BLUEPRINTS = frozenset({"api", views.bp.name})


# ---------------------------------------------------------------- where each part comes from
def stray_blueprints(app: Flask, slices: Iterable[Slice]) -> set[str]:
    """Registered blueprints that are neither the application's nor a manifest's."""
    declared = set(KERNEL_BLUEPRINTS)
    for slice_ in slices:
        declared |= {bp.name for bp in slice_.pages} | {f"api.{bp.name}" for bp in slice_.api}
    return {
        name
        for name in app.blueprints
        if not any(name == d or name.startswith(f"{d}.") for d in declared)
    }


def stray_jobs(jobs: Mapping[str, Any], slices: Iterable[Slice]) -> set[str]:
    declared = {job.name: job for job in adapters.KERNEL_JOBS}
    declared |= {job.name: job for slice_ in slices for job in slice_.jobs}
    return {
        job_id
        for job_id, spec in jobs.items()
        if job_id not in declared
        or (spec.target, spec.interval) != (declared[job_id].target, declared[job_id].interval)
    }


def stray_commands(group: click.Group, slices: Iterable[Slice]) -> set[str]:
    kernel = {f"cert.cli.{name}" for name in COMMAND_MODULES}
    from_slices = {id(command) for slice_ in slices for command in slice_.commands}
    return {
        name
        for name, command in group.commands.items()
        if id(command) not in from_slices
        and getattr(command.callback, "__module__", "") not in kernel
    }


def tables_of(modules: Iterable[ModuleType]) -> Iterator[str]:
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, Table):
                yield value.name
            elif (
                isinstance(value, type)
                and issubclass(value, Base)
                and value.__module__ == module.__name__
                and isinstance(vars(value).get("__table__"), Table)
            ):
                yield vars(value)["__table__"].name


def declared_tables(slices: Iterable[Slice]) -> set[str]:
    return set(tables_of((*KERNEL_MODELS, *(m for s in slices for m in s.models))))


# ---------------------------------------------------------------- the real application
def test_every_blueprint_comes_from_the_application_or_a_manifest(app: Flask) -> None:
    assert stray_blueprints(app, SLICES) == set()
    assert {"incidents", "queue", "api.incidents_api"} <= set(app.blueprints)


def test_a_blueprint_registered_by_hand_is_caught(app: Flask) -> None:
    app.register_blueprint(Blueprint("by_hand", __name__, url_prefix="/by-hand"))
    assert stray_blueprints(app, SLICES) == {"by_hand"}


def test_every_scheduled_job_comes_from_the_kernel_or_a_manifest() -> None:
    assert stray_jobs(JOBS, SLICES) == set()
    assert "incidents.purge_idempotency_keys" in JOBS
    by_hand = {**JOBS, "by.hand": Job("by.hand", "x:y", 60)}
    assert stray_jobs(by_hand, SLICES) == {"by.hand"}


def test_every_command_comes_from_the_application_or_a_manifest() -> None:
    group = load_commands()
    assert stray_commands(group, SLICES) == set()
    assert {"stats", "demo", "db", "scheduler"} <= set(group.commands)
    by_hand = click.Group(commands={**group.commands, "by-hand": click.Command("by-hand")})
    assert stray_commands(by_hand, SLICES) == {"by-hand"}


def test_every_table_comes_from_the_kernel_or_a_manifest() -> None:
    load_commands()  # everything the application imports is loaded
    assert set(Base.metadata.tables) == declared_tables(SLICES)
    assert {"incidents", "saved_filters", "users", "domain_events"} <= set(Base.metadata.tables)


def test_the_incidents_settings_are_built_by_the_slice_hook(app: Flask) -> None:
    (incidents,) = (s for s in SLICES if s.name == "incidents")
    assert incidents.settings is not None
    assert app.extensions["incidents"] == incidents.settings(app.extensions["vigie"].settings)


# ---------------------------------------------------------------- a fake slice
pages = Blueprint("fake_pages", __name__, url_prefix="/fake")
api = Blueprint("fake_api", __name__)


class Pong(BaseModel):
    pong: bool


@pages.get("/")
def fake_page() -> str:
    return "fake slice page"


@api.get("/fake/ping")
@operation(summary="Ping the fake slice", tag="fake", replies={200: Reply("Pong", Pong)})
def fake_ping() -> Any:
    return jsonify(Pong(pong=True).model_dump())


@click.command("fake-slice")
def fake_command() -> None:
    """A command of the fake slice."""
    click.echo("fake")


def fake_job(context: JobContext) -> Mapping[str, int]:
    return {"ran": 1}


class FakeSettings(BaseModel):
    base_url: str


def fake_demo_seed(session: Session, actor: Actor, clock: Clock, config: Config) -> str:
    """Adds its organisation when absent; sees the demo users created before it."""
    found = session.scalar(select(Organisation).where(Organisation.slug == "fake-demo"))
    if found is None:
        organisations.create_organisation(
            session, actor, slug="fake-demo", name=f"Fake of {config.base_url}", clock=clock
        )
    users = session.scalar(select(func.count()).select_from(User))
    return f"fake demo: {int(found is None)} organisation(s) added, {users} user(s) seen"


def fake_demo_bulk(
    session: Session, actor: Actor, clock: Clock, config: Config, count: int, seed: int
) -> Sequence[str]:
    for n in range(count):
        organisations.create_organisation(
            session, actor, slug=f"fake-bulk-{seed}-{n}", name="Fake bulk", clock=clock
        )
    return [f"fake bulk: {count} organisation(s) with seed {seed}", "  and a detail line"]


FAKE = Slice(
    name="fake",
    pages=(pages,),
    api=(api,),
    commands=(fake_command,),
    jobs=(Job("fake.job", f"{__name__}:fake_job", "events_interval_seconds"),),
    settings=lambda config: FakeSettings(base_url=config.base_url),
    demo=Demo(seed=fake_demo_seed, bulk=fake_demo_bulk),
)


def test_a_fake_slice_in_the_list_shows_up_everywhere(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    db_session: Session,
) -> None:
    slices = (*SLICES, FAKE)
    app = create_app(settings, session_factory=session_factory, clock=clock, slices=slices)
    client: FlaskClient = app.test_client()
    assert stray_blueprints(app, slices) == set()
    # the HTML blueprint is reachable, the API route is in the OpenAPI document and answers
    assert client.get("/fake/").get_data(as_text=True) == "fake slice page"
    document = client.get("/api/v1/openapi.json").get_json()
    assert "get" in document["paths"]["/api/v1/fake/ping"]
    _token, secret = make_token(db_session, clock, make_user(db_session, clock, role=Role.ANALYST))
    db_session.commit()
    answer = client.get("/api/v1/fake/ping", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {"pong": True}
    # the settings hook built the slice's extension
    assert app.extensions["fake"] == FakeSettings(
        base_url=app.extensions["vigie"].settings.base_url
    )
    # the job is registered with the setting holding its interval
    adapters.register_slice_jobs((FAKE,))
    try:
        spec = JOBS["fake.job"]
        assert spec.resolve() is fake_job
        assert spec.interval == "events_interval_seconds"
        assert stray_jobs(JOBS, slices) == set()
    finally:
        del JOBS["fake.job"]
    # the command is listed
    try:
        group = load_commands(slices)
        assert group.commands["fake-slice"] is fake_command
        assert stray_commands(group, slices) == set()
    finally:
        del cli.commands["fake-slice"]


def test_a_fake_slice_demo_runs_under_cert_demo(
    fresh_database: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_command, "SLICES", (*SLICES, FAKE))
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
    }

    def run(*args: str) -> list[str]:
        result = CliRunner().invoke(cli, ["demo", *args], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output.splitlines()

    first = run()
    users = len(demo_command.DEMO_USERS)
    # after the organisations and users, each slice's summary line in the list's order
    assert first[0] == f"demo data ready ({users} user(s) created)"
    assert first[1].startswith("  demo feed demo-intel: ")  # feeds first: incidents match it
    assert first[2].startswith("  demo incidents: ")
    assert (
        first[3]
        == "  demo bulletins: 4 published, 0 already present; 4 distribution list(s) created"
    )
    assert first[4].startswith("  built-in playbooks: ")  # the playbooks slice
    assert first[5] == f"  fake demo: 1 organisation(s) added, {users} user(s) seen"
    assert first[6].startswith("  vigilance centres: 2 created, 3 in all; ")  # and their staff
    again = run("--incidents", "2", "--seed", "7")
    assert (
        again[3]
        == "  demo bulletins: 0 published, 4 already present; 0 distribution list(s) created"
    )
    assert again[5] == f"  fake demo: 0 organisation(s) added, {users} user(s) seen"
    assert again[6] == (
        "  vigilance centres: 0 created, 3 in all; 0 member(s) added, 0 rota shift(s) added for "
        "the coming week"
    )
    generated = again.index("fake bulk: 2 organisation(s) with seed 7")
    assert again[generated + 1] == "  and a detail line"
    assert again[generated + 2] == "planner statistics refreshed (ANALYZE)"
    assert any(line.startswith("generated 2 synthetic incident(s)") for line in again)
    with Session(fresh_database.engine) as session:
        fakes = select(Organisation.slug).where(Organisation.name.like("Fake%"))
        slugs = set(session.scalars(fakes))
    assert slugs == {"fake-demo", "fake-bulk-7-0", "fake-bulk-7-1"}
