"""Observables that connect are for CERT staff only: a reporter whose report shares indicators
with another organisation's open incident reads no count, no other reference, no other
organisation and no campaign flag anywhere — the status page, the file URL, the reporter API
(one incident and the list), the reporter's PDF and the e-mails. Both databases."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.mail_compose import rendered
from incidents.models import Incident
from incidents.workspace import conversation, workflow
from tests.incidents.workspace.test_connections import SHARED
from tests.incidents.workspace_helpers import outbox
from tests.kit.api import URL
from tests.kit.factories import PASSWORD, SETTINGS, report
from tests.kit.web import login, logout, sign_in, text
from tests.kit.world import World

STAFF_ONLY = (
    "Possible campaign", "Campagne possible", "حملة محتملة", "vigie-campaign",
    "Seen in", "Vu dans", "شوهد في", "vigie-seen", "campaign", "seen_in",
    "Ministère de la Santé", "وزارة الصحة", "min-sante",
)  # fmt: skip


class Scene:
    def __init__(self, mine: Incident, health: Incident, older: Incident) -> None:
        self.mine, self.health, self.older = mine, health, older

    def leaks(self, content: str) -> list[str]:
        # the same organisation's earlier report is the reporter's own to read
        secrets = (*STAFF_ONLY, self.health.reference, "Vague santé")
        return [s for s in secrets if s in content]


@pytest.fixture
def scene(db_session: Session, clock: FrozenClock, world: World) -> Scene:
    health = report(db_session, clock, world.other_reporter, SHARED, title="Vague santé")
    older = report(db_session, clock, world.reporter, SHARED, title="Première vague")
    mine = report(db_session, clock, world.reporter, SHARED)
    return Scene(mine, health, older)


def test_the_staff_file_has_it_all(client: FlaskClient, world: World, scene: Scene) -> None:
    """What the tests below look for is there for staff: they would catch a leak."""
    sign_in(client, world.analyst)
    html = text(client.get(f"/incidents/{scene.mine.reference}?lang=en"))
    assert {"Possible campaign", "Seen in", scene.health.reference, "Vague santé"} <= set(
        scene.leaks(html)
    )


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_the_status_page_shows_none_of_it(
    client: FlaskClient, world: World, scene: Scene, lang: str
) -> None:
    sign_in(client, world.reporter)
    html = text(client.get(f"/track/{scene.mine.reference}?lang={lang}"))
    assert "185.220.101.4" in html  # the reporter reads their own observables
    assert scene.leaks(html) == []
    # the staff URL sends a reporter to the status page
    response = client.get(f"/incidents/{scene.mine.reference}")
    assert response.status_code == 302 and "/track/" in response.headers["Location"]
    mine = text(client.get(f"/incidents/mine?lang={lang}"))
    assert scene.leaks(mine) == []


def test_the_reporter_api_shows_none_of_it(client: FlaskClient, world: World, scene: Scene) -> None:
    headers = world.headers(world.reporter)
    one = client.get(f"{URL}/{scene.mine.reference}", headers=headers)
    assert one.status_code == 200 and "185.220.101.4" in one.get_data(as_text=True)
    # the same organisation's earlier report is a possible duplicate the reporter may see
    assert one.get_json()["possible_duplicates"] == [scene.older.reference]
    assert scene.leaks(one.get_data(as_text=True)) == []
    listed = client.get(URL, headers=headers).get_data(as_text=True)
    assert scene.older.reference in listed and scene.leaks(listed) == []
    other = client.get(f"{URL}/{scene.health.reference}", headers=headers)
    assert other.status_code == 404


def test_the_reporter_pdf_shows_none_of_it(client: FlaskClient, world: World, scene: Scene) -> None:
    for lang in ("fr", "ar"):
        login(client, world.reporter.email, PASSWORD)
        response = client.get(f"/incidents/{scene.mine.reference}/report.pdf?lang={lang}")
        logout(client)
        assert response.status_code == 200
        pages = PdfReader(io.BytesIO(response.get_data())).pages
        content = " ".join(page.extract_text() for page in pages)
        assert scene.mine.reference in content
        assert scene.leaks(content) == []


def test_the_e_mails_show_none_of_it(
    db_session: Session, clock: FrozenClock, world: World, scene: Scene
) -> None:
    lead = world.actor(world.lead)
    workflow.change_status(db_session, lead, scene.mine, "triaged", clock=clock, settings=SETTINGS)
    conversation.reply_to_reporter(
        db_session, lead, scene.mine, "Nous analysons.", clock=clock, settings=SETTINGS
    )
    for status in ("resolved", "closed"):
        workflow.change_status(
            db_session, lead, scene.mine, status, clock=clock, settings=SETTINGS, resolution="ok",
            assignee=world.lead if status == "resolved" else None,
        )  # fmt: skip
    db_session.flush()
    mails = [m for m in outbox(db_session, scene.mine) if m.to_addr == world.reporter.email]
    assert len(mails) >= 2
    for mail in mails:
        content = "\n".join(part or "" for part in rendered(mail))
        assert scene.leaks(content) == []
