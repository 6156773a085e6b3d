"""``GET /api/v1/incidents/<reference>/stix`` on both databases: a valid bundle (OASIS validator,
``stix2.parse``), stable ids, and never beyond TLP — RED stays home, a reporter never receives
what another organisation reported (a merge brings it into their incident), nor the CERT's
AMBER+STRICT intelligence, and the organisation is never named."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.clock import FrozenClock
from core.markings import Tlp
from feeds.models import Feed, FeedKind, Indicator
from incidents.intel.models import FoundBy, IncidentMatch
from incidents.models import Incident, IncidentObservable
from incidents.sharing import stix_objects as so
from incidents.workspace import merge
from incidents.workspace.observables_admin import add_observable
from tests.incidents.sharing.stix_check import assert_valid_bundle, by_type
from tests.kit.api import bearer
from tests.kit.factories import INFECTED_HOST, SETTINGS, report
from tests.kit.world import World

STIX = "application/stix+json;version=2.1"
FEED_INDICATOR = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


def _export(client: FlaskClient, token: str, reference: str, status: int = 200) -> Any:
    response = client.get(f"/api/v1/incidents/{reference}/stix", headers=bearer(token))
    assert response.status_code == status, response.get_data(as_text=True)
    if status != 200:
        return response.get_json()
    assert response.mimetype == "application/stix+json"
    assert response.headers["Content-Type"].startswith(STIX)
    return assert_valid_bundle(response.get_data(as_text=True))


def _values(bundle: dict[str, Any]) -> set[str]:
    return {
        o.get("value") or next(iter(o.get("hashes", {"": ""}).values()))
        for o in bundle["objects"]
        if "value" in o or "hashes" in o
    }


def _match(session: Session, incident: Incident, value: str, tlp: Tlp, clock: FrozenClock) -> None:
    feed = Feed(name=f"feed-{tlp}", kind=FeedKind.FILE, default_tlp=tlp, created_at=clock.now())
    session.add(feed)
    session.flush()
    stix_id = FEED_INDICATOR if tlp is Tlp.GREEN else None
    indicator = Indicator(
        feed_id=feed.id, source_ref=f"ref-{tlp}", stix_id=stix_id, tlp=tlp,
        created_at=clock.now(), updated_at=clock.now(),
    )  # fmt: skip
    session.add(indicator)
    session.flush()
    observable = next(o for o in incident.observables if o.value == value)
    session.add(
        IncidentMatch(
            incident_id=incident.id, observable_id=observable.id, indicator_id=indicator.id,
            why="exact", matched=value, found_by=FoundBy.ARRIVAL, matched_at=clock.now(),
        )
    )  # fmt: skip
    session.flush()


def test_a_staff_export_is_a_valid_stable_bundle(
    client: FlaskClient, world: World, db_session: Session, clock: FrozenClock,
    analyst_token: str,
) -> None:  # fmt: skip
    incident = report(db_session, clock, world.reporter)
    bundle = _export(client, analyst_token, incident.reference)
    text = str(bundle)
    (core,) = by_type(bundle, "incident")
    extension = core["extensions"]["extension-definition--ef765651-680c-498d-9894-99799f2fa126"]
    assert extension["determination"] == "suspected"
    assert extension["investigation_status"] == "new"
    assert extension["criticality"] in {95, 70, 40, 15}
    assert core["name"] == f"{incident.reference} (fraud / phishing)"
    org = world.interieur  # never named, nor what the reporter wrote
    for secret in (org.name, org.name_ar, org.slug, incident.title, "Plusieurs agents"):
        assert secret not in text
    victim = next(o for o in by_type(bundle, "identity") if "sectors" in o)
    assert victim["sectors"] == ["government-national"]
    assert {m["name"] for m in by_type(bundle, "marking-definition")} == {"TLP:AMBER"}
    amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    assert all(o["object_marking_refs"] == [amber] for o in by_type(bundle, "indicator"))
    patterns = {o["pattern"] for o in by_type(bundle, "indicator")}
    assert "[ipv4-addr:value = '185.220.101.4']" in patterns
    assert "[url:value = 'https://webmail-interieur.com/login.php']" in patterns
    # stable: the same ids again; a change is a new version of the same incident object
    clock.advance(minutes=5)
    incident.updated_at = clock.now()
    db_session.flush()
    again = _export(client, analyst_token, incident.reference)
    assert [o["id"] for o in again["objects"]] == [o["id"] for o in bundle["objects"]]
    (core2,) = by_type(again, "incident")
    assert core2["modified"] > core["modified"] and core2["created"] == core["created"]


def test_the_producer_is_named_after_cert_name_with_an_id_from_the_prefix(
    settings: dict[str, Any], session_factory: sessionmaker[Session], world: World,
    db_session: Session, clock: FrozenClock, analyst_token: str,
) -> None:  # fmt: skip
    app = create_app(
        {**settings, "cert_name": "Centre de veille national"},
        session_factory=session_factory,
        clock=clock,
    )
    incident = report(db_session, clock, world.reporter)
    bundle = _export(app.test_client(), analyst_token, incident.reference)
    (producer,) = (o for o in by_type(bundle, "identity") if "sectors" not in o)
    assert producer["name"] == "Centre de veille national"
    assert producer["id"] == so.Producer("MACERT", "another name").identity()["id"]
    assert {o["created_by_ref"] for o in by_type(bundle, "indicator")} == {producer["id"]}
    assert all("reported to Centre de veille national." in o["description"]
               for o in by_type(bundle, "indicator"))  # fmt: skip


def test_red_never_leaves(
    client: FlaskClient, world: World, db_session: Session, clock: FrozenClock,
    analyst_token: str, lead_token: str, reporter_token: str,
) -> None:  # fmt: skip
    incident = report(db_session, clock, world.reporter)
    red = next(o for o in incident.observables if o.type == "ipv4")
    red.tlp = Tlp.RED
    strict = next(o for o in incident.observables if o.type == "url")
    strict.tlp = Tlp.AMBER_STRICT
    db_session.flush()
    bundle = _export(client, analyst_token, incident.reference)
    assert "185.220.101.4" not in str(bundle)
    url = next(o for o in by_type(bundle, "indicator") if "url:value" in o["pattern"])
    assert url["object_marking_refs"] == [
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
    ]
    assert "185.220.101.4" not in str(_export(client, reporter_token, incident.reference))
    secret = report(db_session, clock, world.reporter, tlp="TLP:RED")
    for token in (lead_token, reporter_token):  # they see it; it still never leaves
        assert _export(client, token, secret.reference, 403)["error"]["code"] == "forbidden"
    _export(client, analyst_token, secret.reference, 404)  # an analyst does not even see it


def test_unknown_and_other_organisations_incidents_are_404(
    client: FlaskClient, world: World, db_session: Session, clock: FrozenClock,
) -> None:  # fmt: skip
    incident = report(db_session, clock, world.reporter)
    other = world.token(world.other_reporter)
    hidden = _export(client, other, incident.reference, 404)["error"]
    unknown = _export(client, other, "MACERT-2099-999999", 404)["error"]
    assert hidden["message"].replace(incident.reference, "X") == unknown["message"].replace(
        "MACERT-2099-999999", "X"
    )  # the same answer: existence is never revealed


def test_merge_leak_a_reporter_never_exports_anothers_observables(
    client: FlaskClient, world: World, db_session: Session, clock: FrozenClock,
    analyst_token: str, reporter_token: str,
) -> None:  # fmt: skip
    survivor = report(db_session, clock, world.reporter)
    theirs = report(
        db_session, clock, world.other_reporter, INFECTED_HOST,
        description="Chiffrement depuis 203.0.113.66, note sur evil-sante.example",
    )  # fmt: skip
    merge.merge(
        db_session, world.actor(world.lead), survivor, theirs, clock=clock, settings=SETTINGS,
        confirm_organisations=["min-sante", "min-interieur"],
    )  # fmt: skip
    add_observable(
        db_session, world.actor(world.analyst), survivor, "domain", "c2-lead.example", clock=clock
    )
    db_session.flush()
    moved = {o.value for o in survivor.observables if o.origin_incident_id == theirs.id}
    assert "203.0.113.66" in moved  # the merge brought Health's observables here
    staff = _values(_export(client, analyst_token, survivor.reference))
    assert {"203.0.113.66", "c2-lead.example"} <= staff
    mine = _values(_export(client, reporter_token, survivor.reference))
    assert "185.220.101.4" in mine
    assert not mine & (moved | {"c2-lead.example"})  # not Health's, not the analyst's lead
    # Health's reporter, following the duplicate, gets their own observables back, not ours
    health = _values(_export(client, world.token(world.other_reporter), theirs.reference))
    assert "203.0.113.66" in health and "185.220.101.4" not in health


def test_sightings_and_warning_lists(
    client: FlaskClient, world: World, db_session: Session, clock: FrozenClock,
    analyst_token: str, reporter_token: str,
) -> None:  # fmt: skip
    incident = report(db_session, clock, world.reporter)
    _match(db_session, incident, "185.220.101.4", Tlp.GREEN, clock)
    _match(db_session, incident, "https://webmail-interieur.com/login.php", Tlp.AMBER_STRICT, clock)
    _match(db_session, incident, "185.220.101.4", Tlp.RED, clock)
    benign: IncidentObservable = next(o for o in incident.observables if o.type == "ipv4")
    benign.warning_lists = ["Tor exit nodes"]
    db_session.flush()
    staff = _export(client, analyst_token, incident.reference)
    sightings = by_type(staff, "sighting")
    assert len(sightings) == 2  # GREEN and AMBER+STRICT feeds; the RED one never leaves
    green = next(s for s in sightings if s["sighting_of_ref"] == FEED_INDICATOR)
    assert green["where_sighted_refs"][0].startswith("identity--")
    assert green["observed_data_refs"][0] in {o["id"] for o in by_type(staff, "observed-data")}
    assert not any("185.220.101.4" in o["pattern"] for o in by_type(staff, "indicator"))
    assert any(o.get("value") == "185.220.101.4" for o in by_type(staff, "ipv4-addr"))
    reporter = _export(client, reporter_token, incident.reference)
    assert [s["sighting_of_ref"] for s in by_type(reporter, "sighting")] == [FEED_INDICATOR]


def test_the_incident_file_offers_the_download_to_staff(
    client: FlaskClient, world: World, db_session: Session, clock: FrozenClock,
) -> None:  # fmt: skip
    incident = report(db_session, clock, world.reporter)
    world.sign_in(client, world.analyst)
    page = client.get(f"/incidents/{incident.reference}").get_data(as_text=True)
    assert f'href="/incidents/{incident.reference}/stix"' in page
    download = client.get(f"/incidents/{incident.reference}/stix")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].endswith(f'"{incident.reference}.json"')
    bundle = assert_valid_bundle(download.get_data(as_text=True))
    assert by_type(bundle, "incident")[0]["name"].startswith(incident.reference)
    secret = report(db_session, clock, world.reporter, tlp="TLP:RED")
    lead = world.sign_in(client.application.test_client(), world.lead)
    assert "/stix" not in lead.get(f"/incidents/{secret.reference}").get_data(as_text=True)
