"""The incident file's "Playbooks" panel: registered by the playbooks slice through the web kit's
panels (core.web.panels), never imported by the incidents slice."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import Organisation, User
from core.web import panels
from playbooks.models import Playbook, PlaybookRun, RunStatus
from playbooks.pages import queries
from tests.kit.factories import report
from tests.kit.web import csrf_token, sign_in, text
from tests.playbooks.pages_kit import playbook, run

ROOT = Path(__file__).resolve().parents[2]


def test_the_incidents_slice_imports_nothing_from_playbooks() -> None:
    offenders = []
    for path in (ROOT / "incidents").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )  # fmt: skip
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] == "playbooks"]
    assert offenders == []
    templates = (ROOT / "incidents" / "templates").rglob("*.html")
    assert not [p for p in templates if "playbooks" in p.read_text(encoding="utf-8")]


def test_the_file_page_shows_the_runs_and_what_they_wait_on(
    client: FlaskClient, db_session: Session, clock: FrozenClock, analyst: User, reporter: User
) -> None:
    book = playbook(db_session, clock, name="Rançongiciel")
    incident = report(db_session, clock, reporter)
    waiting = run(db_session, clock, book, incident=incident)
    other = report(db_session, clock, reporter, title="Autre")
    sign_in(client, analyst)
    page = text(client.get(f"/incidents/{incident.reference}"))
    assert 'id="playbooks"' in page
    panel = page[page.index('id="playbooks"') :]
    assert f'href="/playbooks/runs/{waiting.id}"' in panel and "Rançongiciel" in panel
    assert "Contain" in panel[: panel.index("</section>")]  # the step it waits on
    empty = text(client.get(f"/incidents/{other.reference}"))
    assert 'id="playbooks"' in empty and f"/playbooks/runs/{waiting.id}" not in empty


def test_a_registered_panel_renders_in_its_slot(app: Flask, analyst: User) -> None:
    seen: list[tuple[object, Actor]] = []

    def mine(subject: object, actor: Actor) -> Markup | None:
        seen.append((subject, actor))
        return Markup("<p>mine</p>") if subject == "x" else None

    panels.register(app, panels.Panel("elsewhere", mine, order=1))
    actor = Actor.for_user(analyst)
    with app.test_request_context("/"):
        assert panels.render("elsewhere", "x", actor) == [Markup("<p>mine</p>")]
        assert panels.render("elsewhere", "y", actor) == []
        assert panels.render("nowhere", "x", actor) == []
    assert seen == [("x", actor), ("y", actor)]


def test_only_enabled_current_after_incident_playbooks_are_offered(
    db_session: Session, clock: FrozenClock
) -> None:
    offered = playbook(db_session, clock, name="Offered")
    playbook(db_session, clock, name="Before", types=("prevention",))
    off = playbook(db_session, clock, name="Disabled")
    off.enabled = False
    revoked = playbook(db_session, clock, name="Revoked", revoked=True)
    old = playbook(db_session, clock, pid=offered.cacao_id, modified="2026-10-01T08:00:00Z")
    db_session.flush()
    ids = [p.id for p in queries.startable(db_session)]
    assert ids == [offered.id]
    assert revoked.revoked and not old.current


def test_staff_start_a_playbook_from_the_file_when_the_engine_offers_it(
    client: FlaskClient, db_session: Session, clock: FrozenClock, analyst: User,
    interieur: Organisation,
) -> None:  # fmt: skip
    """Starting goes through the engine's ``start_manual_run`` (branch ``engine``)."""
    services = pytest.importorskip("playbooks.engine.services")
    if not hasattr(services, "start_manual_run"):
        pytest.skip("playbooks.engine.services.start_manual_run lands with the engine branch")
    book = playbook(db_session, clock, name="Phishing")
    incident = report(db_session, clock, interieur)
    sign_in(client, analyst)
    page = text(client.get(f"/incidents/{incident.reference}"))
    assert f'<option value="{book.id}">Phishing</option>' in page
    form = {"csrf_token": csrf_token(page), "playbook": str(book.id)}
    response = client.post(f"/incidents/{incident.reference}/playbooks", data=form)
    assert response.status_code == 302
    started = db_session.scalar(select(PlaybookRun).where(PlaybookRun.incident_id == incident.id))
    assert started is not None and started.playbook_id == book.id
    assert isinstance(db_session.get(Playbook, book.id), Playbook)
    assert started.status in set(RunStatus)
