"""GET /api/v1/incidents/<reference>/misp and the file's download, on both databases: who may
export (staff, the reporting organisation), TLP:RED, the observables a reporter may not read
(another organisation's, merged in; an analyst's), and PyMISP reading what was served."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from pymisp import MISPEvent
from sqlalchemy.orm import Session

from core.auth import organisations as orgs
from core.clock import FrozenClock
from core.identity.models import AssetKind
from incidents.models import Incident
from incidents.workspace import merge
from incidents.workspace.observables_admin import add_observable
from tests.kit.api import envelope
from tests.kit.factories import INFECTED_HOST, SETTINGS, SYSTEM, report
from tests.kit.web import sign_in, text
from tests.kit.world import World


def url(incident: Incident) -> str:
    return f"/api/v1/incidents/{incident.reference}/misp"


def exported(client: FlaskClient, incident: Incident, headers: dict[str, str]) -> MISPEvent:
    response = client.get(url(incident), headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    event = MISPEvent()
    event.load(response.get_data(as_text=True))
    return event


def values(event: MISPEvent) -> set[str]:
    return {a.value for a in event.attributes}


def test_staff_and_the_reporting_organisation_export_others_get_404(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, tlp="TLP:GREEN", pap="PAP:GREEN")
    expected = {(o.type, o.value) for o in incident.observables}
    assert ("ipv4", "185.220.101.4") in expected
    for person in (world.analyst, world.lead, world.reporter):
        event = exported(client, incident, world.headers(person))
        assert values(event) == {value for _, value in expected}
        assert event.info.startswith(f"{incident.reference} — Fraud")
        assert {t.name for t in event.tags} == {"tlp:green", "PAP:GREEN", 'rsit:fraud="phishing"'}
    blob = client.get(url(incident), headers=world.headers(world.analyst)).get_data(as_text=True)
    assert incident.title not in blob and "interieur.gov.ma" not in blob.replace("-", " ")
    envelope(client.get(url(incident), headers=world.headers(world.other_reporter)), 404)
    envelope(client.get("/api/v1/incidents/MACERT-1999-000001/misp",
                        headers=world.headers(world.analyst)), 404)  # fmt: skip
    envelope(client.get(url(incident)), 401)


def test_red_is_hidden_from_analysts_and_refused_to_those_who_see_it(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    red = report(db_session, clock, world.reporter, tlp="TLP:RED")
    envelope(client.get(url(red), headers=world.headers(world.analyst)), 404)
    for person in (world.lead, world.reporter):
        error = envelope(client.get(url(red), headers=world.headers(person)), 403)
        assert "TLP:RED" in error["message"]


def test_a_merge_never_brings_another_organisation_observables_to_a_reporter(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    """The attacker's merge path: the Health ministry's report, merged into the Interior
    ministry's, must not reach the Interior reporter through the export; nor an analyst's own
    lead. Staff export all of them."""
    survivor = report(db_session, clock, world.reporter)
    theirs = report(db_session, clock, world.other_reporter, INFECTED_HOST)
    assert ("ipv4", "198.51.100.23") in {(o.type, o.value) for o in theirs.observables}
    add_observable(db_session, world.actor(world.analyst), theirs, "ipv4", "91.92.242.18",
                   clock=clock)  # fmt: skip
    add_observable(db_session, world.actor(world.analyst), survivor, "sha256", "ab" * 32,
                   clock=clock)  # fmt: skip
    merge.merge(
        db_session, world.actor(world.lead), survivor, theirs, clock=clock, settings=SETTINGS,
        confirm_organisations=["min-sante", "min-interieur"],
    )  # fmt: skip
    db_session.flush()
    own = {"185.220.101.4", "interieur-gov.ma", "securite@interieur-gov.ma"}
    staff = values(exported(client, survivor, world.headers(world.analyst)))
    assert own | {"198.51.100.23", "91.92.242.18", "ab" * 32} <= staff
    reporter = values(exported(client, survivor, world.headers(world.reporter)))
    assert own <= reporter
    assert reporter.isdisjoint({"198.51.100.23", "91.92.242.18", "ab" * 32})
    # the Health reporter follows their duplicate: its own observables, not the survivor's
    envelope(client.get(url(survivor), headers=world.headers(world.other_reporter)), 404)
    theirs_now = values(exported(client, theirs, world.headers(world.other_reporter)))
    assert "198.51.100.23" in theirs_now and theirs_now.isdisjoint(own | {"91.92.242.18"})


def test_own_assets_are_left_out_and_exporting_again_gives_the_same_event(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    orgs.add_asset(db_session, SYSTEM, world.interieur, kind=AssetKind.DOMAIN,
                   value="interieur.gov.ma", clock=clock)  # fmt: skip
    incident = report(
        db_session, clock, world.reporter, tlp="TLP:AMBER",
        description="Connexions depuis 185.220.101[.]4 vers hxxps://vpn.interieur.gov[.]ma/login",
    )  # fmt: skip
    headers = world.headers(world.analyst)
    first = client.get(url(incident), headers=headers).get_json()
    assert {a["value"] for a in first["Event"]["Attribute"]} == {"185.220.101.4"}
    assert first["Event"]["distribution"] == "0"
    assert client.get(url(incident), headers=headers).get_json() == first


def test_the_file_links_the_download_for_staff(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, tlp="TLP:GREEN")
    red = report(db_session, clock, world.reporter, tlp="TLP:RED")
    sign_in(client, world.lead)
    link = f"/incidents/{incident.reference}/misp.json"
    assert link in text(client.get(f"/incidents/{incident.reference}"))
    assert "/misp.json" not in text(client.get(f"/incidents/{red.reference}"))
    response = client.get(link)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{incident.reference}.misp.json"'
    )
    body: dict[str, Any] = json.loads(response.get_data(as_text=True))
    event = MISPEvent()
    event.load(body)
    assert "185.220.101.4" in values(event)
    assert client.get(f"/incidents/{red.reference}/misp.json").status_code == 403
