"""Merged incidents on the pages (both databases): the duplicate's status page follows the
survivor, the staff file names where merged observables came from, observables both reports
held stay with each organisation, and the reporter's PDF carries no internal reason."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from incidents.origins import observables_for
from incidents.workspace import merge, workflow
from tests.incidents.cross_scene import ATTACHMENT, DUPLICATE, SURVIVOR, Cross, confirm
from tests.kit.factories import PASSWORD, SETTINGS, report
from tests.kit.web import login, logout, text
from tests.kit.world import World


def test_the_duplicate_status_page_follows_the_survivor(
    client: FlaskClient, db_session: Session, clock: FrozenClock, cross: Cross
) -> None:
    login(client, cross.world.other_reporter.email, PASSWORD)
    page = text(client.get(f"/track/{cross.duplicate.reference}?lang=en"))
    assert "merged into another report the CERT handles together with it" in page
    merged = page.split('class="vigie-merged', 1)[1].split("</div>", 1)[0]
    assert "vigie-status-in_progress" in merged and "Being handled" in merged
    for own in ("sante-exfil.example", "c2-dossier.example", ATTACHMENT):
        assert own in page
    survivor = cross.survivor
    assert survivor.reference not in page and "webmail-interieur.com" not in page
    workflow.change_status(
        db_session, Actor.for_user(cross.world.lead), survivor, "resolved",
        clock=clock, settings=SETTINGS, resolution="Domaine bloqué", assignee=cross.world.lead,
    )  # fmt: skip
    db_session.flush()
    page = text(client.get(f"/track/{cross.duplicate.reference}?lang=en"))
    assert "vigie-status-resolved" in page and "Resolved on" in page
    assert "Domaine bloqué" not in page  # the survivor's resolution is its reporter's


def test_the_staff_file_names_the_origin_it_may_see(
    client: FlaskClient, cross: Cross, db_session: Session, clock: FrozenClock
) -> None:
    login(client, cross.world.lead.email, PASSWORD)
    page = text(client.get(f"/incidents/{cross.survivor.reference}?lang=en"))
    assert f"Merged from {cross.duplicate.reference} (min-sante)" in page
    data = client.get(f"/incidents/{cross.survivor.reference}/report.pdf?lang=en").get_data()
    pdf = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Merged from" in pdf and f"{cross.duplicate.reference} (min-sante)" in pdf
    logout(client)
    login(client, cross.assignee.email, PASSWORD)
    page = text(client.get(f"/incidents/{cross.red.reference}?lang=en"))
    assert "Merged from an incident you cannot see (min-sante)" in page
    assert "An incident you cannot see was merged into this one" in page
    assert "203.0.113.66" in page and cross.red_duplicate.reference not in page


def test_a_value_both_organisations_reported_stays_with_each(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    survivor = report(db_session, clock, world.reporter, **SURVIVOR)
    both = {**DUPLICATE, "description": DUPLICATE["description"] + " et 185.220.101[.]4"}
    other = report(db_session, clock, world.other_reporter, **both)
    merge.merge(
        db_session, world.actor(world.lead), survivor, other, clock=clock, settings=SETTINGS,
        confirm_organisations=confirm(other, survivor),
    )  # fmt: skip
    db_session.flush()
    [twin] = [o for o in survivor.observables if o.value == "185.220.101.4"]
    assert twin.origin_incident_id is None and twin.sources == ["description"]
    assert [o.value for o in other.observables] == ["185.220.101.4"]  # kept by the duplicate
    theirs = {
        o.value for o in observables_for(db_session, world.actor(world.other_reporter), other)
    }
    assert {"185.220.101.4", "sante-exfil.example"} <= theirs
    ours = {o.value for o in observables_for(db_session, world.actor(world.reporter), survivor)}
    assert "185.220.101.4" in ours and "sante-exfil.example" not in ours
    moved = next(o for o in survivor.observables if o.value == "sante-exfil.example")
    assert moved.origin_incident_id == other.id


def test_the_reporter_pdf_carries_no_internal_reason(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    workflow.set_priority(
        db_session, world.actor(world.lead), incident, "P1",
        "Lié à l'APT visant un autre ministère", clock=clock, settings=SETTINGS,
    )  # fmt: skip
    db_session.flush()

    def pdf_text(email: str) -> str:
        login(client, email, PASSWORD)
        data = client.get(f"/incidents/{incident.reference}/report.pdf").get_data()
        logout(client)
        return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)

    assert "APT" not in pdf_text(world.reporter.email)
    assert "APT" in pdf_text(world.lead.email)
