"""The reporter's status page after a rejection or a duplicate (issue 17): the CERT's reason in
words, the original's reference only when the reporter may see that incident — never another
organisation's reference or title, on the page or in the API timeline."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from incidents.workspace import workflow
from tests.kit.factories import SETTINGS, report
from tests.kit.web import logout, sign_in, text
from tests.kit.world import World

WHY = "Même campagne d’hameçonnage que le signalement précédent."


def test_the_reporter_reads_the_reason_of_a_rejection(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    analyst = world.actor(world.analyst)
    workflow.change_status(
        db_session, analyst, incident, "triaged", clock=clock, settings=SETTINGS,
        reason="note interne de tri",
    )  # fmt: skip
    workflow.change_status(
        db_session, analyst, incident, "rejected", clock=clock, settings=SETTINGS,
        reason="Panne électrique, pas un incident de sécurité.",
    )  # fmt: skip
    db_session.commit()
    sign_in(client, world.reporter)
    page = text(client.get(f"/track/{incident.reference}"))
    assert "Non retenu" in page
    assert page.count("Panne électrique, pas un incident de sécurité.") == 2  # status, timeline
    assert "note interne de tri" not in page  # other reasons stay internal


def test_a_duplicate_names_the_original_only_to_its_own_organisation(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    original = report(db_session, clock, world.reporter, title="Fuite interne Intérieur")
    same = report(db_session, clock, world.reporter)
    other = report(db_session, clock, world.other_reporter)
    analyst = world.actor(world.analyst)
    for incident in (same, other):
        workflow.change_status(
            db_session, analyst, incident, "duplicate", clock=clock, settings=SETTINGS,
            reason=WHY, duplicate_of=original.reference,
        )  # fmt: skip
    db_session.commit()
    sign_in(client, world.reporter)
    page = text(client.get(f"/track/{same.reference}?lang=fr"))
    assert original.reference in page and WHY in page
    logout(client)
    sign_in(client, world.other_reporter)
    page = text(client.get(f"/track/{other.reference}?lang=fr"))
    assert WHY in page and "vigie-merged" in page  # followed under another report, unnamed
    assert original.reference not in page and original.title not in page
    headers = world.headers(world.other_reporter)
    timeline = client.get(f"/api/v1/incidents/{other.reference}/timeline", headers=headers)
    body = timeline.get_data(as_text=True)
    assert original.reference not in body and original.title not in body
    [status] = [e for e in timeline.get_json()["items"] if e["kind"] == "status"]
    assert status["data"] == {
        "from": "new", "to": "duplicate", "reason": WHY, "hidden": ["duplicate_of"]
    }  # fmt: skip
