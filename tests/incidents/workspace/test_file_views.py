"""The incident file of the CERT staff through the client, on both backends: every part rendered,
who may see it (404 on the page and on every action), each action form and its field errors,
escaping of user text, and a constant number of queries whatever the incident's size."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import Role, User
from incidents.models import Incident, IncidentEvent, IncidentTask
from incidents.workspace import conversation, merge, observables_admin, tasks, workflow
from tests.incidents.file_helpers import act
from tests.kit.factories import INFECTED_HOST, PASSWORD, SETTINGS, make_org, make_user, report
from tests.kit.web import login, logout, sign_in, text

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


@pytest.fixture
def incident(db_session: Session, clock: FrozenClock, reporter: User) -> Incident:
    return report(db_session, clock, reporter, INFECTED_HOST, tlp="TLP:AMBER", pap="PAP:GREEN")


def page(client: FlaskClient, incident: Incident) -> str:
    response = client.get(f"/incidents/{incident.reference}")
    assert response.status_code == 200
    return text(response)


# ---------------------------------------------------------------- the page
def test_the_file_shows_every_part_to_an_analyst(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    reporter: User,
    analyst: User,
    incident: Incident,
) -> None:
    sign_in(client, analyst)
    me = Actor.for_user(analyst)
    colleague = make_user(db_session, clock, role=Role.ANALYST, name="Nadia Coordination")
    twin = report(
        db_session, clock, reporter, INFECTED_HOST, title="Même alerte", description="198.51.100.23"
    )
    other = report(db_session, clock, reporter, INFECTED_HOST, title="Incident voisin")
    workflow.assign(db_session, me, incident, analyst, clock=clock)
    workflow.change_status(db_session, me, incident, "triaged", clock=clock, settings=SETTINGS)
    workflow.set_priority(
        db_session, me, incident, "P1", "Service vital", clock=clock, settings=SETTINGS
    )
    workflow.add_participant(db_session, me, incident, colleague, clock=clock)
    conversation.add_comment(db_session, me, incident, "Piste interne", clock=clock)
    conversation.reply_to_reporter(
        db_session, me, incident, "Isolez le poste", clock=clock, settings=SETTINGS
    )
    tasks.add_task(db_session, me, incident, "Collecter les journaux", clock=clock)
    merge.link(db_session, me, incident, other, clock=clock)
    incident.possible_duplicates = [twin.reference]
    db_session.flush()
    html = page(client, incident)
    for part in (
        incident.reference,
        "Poste infecté",
        "Ministère de l&#39;Intérieur",  # escaped
        "government",
        "Code malveillant",  # RSIT class, in French
        'class="vigie-marking tlp-amber"',
        'class="vigie-marking pap-green"',
        "vigie-priority-p1",
        "vigie-status-triaged",
        "Amine Analyste",  # assignee
        "Alerte antivirus sur 198.51.100.23.",
        "rssi@interieur.gov.ma",
        "198.51.100.23",  # observable
        "Collecter les journaux",
        other.reference,
        twin.reference,
        "Nadia Coordination",
        "Piste interne",
        "Isolez le poste",
        "Service vital",
    ):
        assert part in html, part
    assert html.count('class="vigie-event ') >= 8
    assert 'id="timeline"' in html and 'id="tasks"' in html and 'id="observables"' in html


def test_deadlines_count_down_and_nis2_deadlines_show(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User, analyst: User
) -> None:
    sign_in(client, analyst)
    incident = report(db_session, clock, reporter, INFECTED_HOST, significant=True)
    html = page(client, incident)
    assert "NIS2" in html and html.count("<tr>") >= 5  # ack, resolve, 3 NIS2 deadlines
    assert "dans 1 jour" in html or "dans 24 heures" in html  # P3 acknowledgement


def test_a_reporter_is_sent_to_the_status_page(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User, incident: Incident
) -> None:
    login(client, reporter.email, PASSWORD)
    response = client.get(f"/incidents/{incident.reference}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/track/{incident.reference}"
    response = act(client, incident.reference, "comments", "comment", body="Je commente")
    assert response.status_code == 403  # the file's actions are for CERT staff
    assert "Je commente" not in text(client.get(f"/track/{incident.reference}"))


ACTIONS = [
    ("status", "status", {"to": "triaged"}),
    ("assign", "assign", {"assignee": ""}),
    ("priority", "priority", {"priority": "P1", "reason": "x"}),
    ("classification", "rsit", {"classification": "fraud/phishing"}),
    ("markings", "markings", {"tlp": "TLP:RED", "pap": "PAP:RED"}),
    ("participants", "participant", {"user": "1"}),
    ("participants/1/remove", None, {}),
    ("comments", "comment", {"body": "x"}),
    ("replies", "reply", {"body": "x"}),
    ("observables", "observable", {"type": "ipv4", "value": "192.0.2.1"}),
    ("observables/1/remove", None, {}),
    ("tasks", "task", {"title": "x"}),
    ("tasks/1/done", None, {"done": "1"}),
    ("tasks/templates", None, {}),
    ("links", "link", {"reference": "MACERT-2026-000001"}),
    ("links/MACERT-2026-000001/remove", None, {}),
    ("merge", "merge", {"reference": "MACERT-2026-000001"}),
]


def test_outsiders_get_404_on_the_page_and_on_every_action(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    red = report(db_session, clock, reporter, INFECTED_HOST, tlp="TLP:RED")
    stranger = make_user(db_session, clock, org=make_org(db_session, clock))
    outsider = make_user(db_session, clock, role=Role.ANALYST)
    for user in (stranger, outsider):
        login(client, user.email, PASSWORD)
        assert client.get(f"/incidents/{red.reference}").status_code == 404
        for action, prefix, fields in ACTIONS:
            response = act(client, red.reference, action, prefix, **fields)
            assert response.status_code == 404, (user.role, action)
        logout(client)
    db_session.expire_all()
    events = db_session.scalars(
        select(IncidentEvent.kind).where(IncidentEvent.incident_id == red.id)
    )
    assert list(events) == ["created"]


def test_a_named_participant_sees_a_red_incident(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    red = report(db_session, clock, reporter, INFECTED_HOST, tlp="TLP:RED")
    lead = Actor.for_user(make_user(db_session, clock, role=Role.LEAD))
    named = make_user(db_session, clock, role=Role.ANALYST)
    workflow.add_participant(db_session, lead, red, named, clock=clock)
    login(client, named.email, PASSWORD)
    assert client.get(f"/incidents/{red.reference}").status_code == 200


# ---------------------------------------------------------------- escaping
def test_user_text_is_escaped_or_sanitised(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User, analyst: User
) -> None:
    sign_in(client, analyst)
    incident = report(
        db_session, clock, reporter, INFECTED_HOST, title=f"T {XSS}", description=f"D {XSS}"
    )
    for action, prefix in (("comments", "comment"), ("replies", "reply")):
        assert act(client, incident.reference, action, prefix, body=f"B {XSS}").status_code == 302
    html = page(client, incident)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # title and description, escaped
    assert not re.search(r"<script(?![^>]*\bsrc=)", html, re.IGNORECASE)
    shown_as_text = re.sub(r"&lt;.*?&gt;", "", html)  # Markdown shows raw HTML as text
    assert "onerror=" not in shown_as_text.replace("onerror=&#34;", "").replace(
        "onerror=&quot;", ""
    )
    assert not re.search(r"<img[^>]*onerror", html, re.IGNORECASE)
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html, re.IGNORECASE)
    assert not re.search(r"<style\b|\sstyle\s*=", html, re.IGNORECASE)


# ---------------------------------------------------------------- queries
@contextmanager
def counting(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def grow(session: Session, clock: FrozenClock, incident: Incident, me: Actor, n: int) -> None:
    for k in range(n):
        conversation.add_comment(session, me, incident, f"Note {k}", clock=clock)
        tasks.add_task(session, me, incident, f"Tâche {k}", clock=clock, assignee=None)
        observables_admin.add_observable(
            session, me, incident, "ipv4", f"192.0.2.{k + 1}", clock=clock
        )
    session.flush()


def test_the_file_costs_the_same_queries_with_20_or_40_items(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter: User, analyst: User
) -> None:
    """Both timelines are longer than a page (the users met on it differ the same way: the
    reporter is not among its events, so the page fetches it in both)."""
    sign_in(client, analyst)
    me = Actor.for_user(analyst)
    counts = []
    for n in (20, 40):
        incident = report(
            db_session,
            clock,
            reporter,
            INFECTED_HOST,
            title=f"Incident {n}",
            description="Sans indicateur.",
        )
        grow(db_session, clock, incident, me, n)
        for task in db_session.scalars(
            select(IncidentTask).where(IncidentTask.incident_id == incident.id)
        ):
            task.assignee_id = analyst.id
        db_session.flush()
        page(client, incident)  # warm-up (login, caches)
        with counting(db_session) as statements:
            html = page(client, incident)
        assert html.count("vigie-task-title") == n
        assert html.count('class="vigie-observable"') == n
        assert "before=" in html  # 60 or 120 events: the timeline paginates
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
