"""The MISP export read back as intelligence, on both databases: the event served by
``GET …/misp``, loaded by PyMISP and published as a MISP feed (PyMISP's ``to_feed`` and
``feed_meta_generator``: ``manifest.json`` + ``<uuid>.json``), parsed by Vigie's MISP feed
reader (:func:`feeds.rules.misp.parse_event`), gives back the same values, uuids, ``to_ids`` and
TLP — and, stored in a feed, matches the incident's own observables."""

from __future__ import annotations

import json
from pathlib import Path

from flask.testing import FlaskClient
from pymisp import MISPEvent, MISPOrganisation
from pymisp.tools import feed_meta_generator
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.markings import Tlp
from feeds.index.lookup import match_observables
from feeds.index.store import store_records
from feeds.models import Feed, FeedKind
from feeds.rules.misp import parse_event
from incidents.workspace.observables_admin import add_observable
from tests.kit.factories import report
from tests.kit.world import World


def published(event: MISPEvent, directory: Path) -> bytes:
    """``event`` as a MISP feed publishes it; the event file's bytes."""
    organisation = MISPOrganisation()
    organisation.name = "CERT partner"
    organisation.uuid = "5d1a1ab4-2222-4222-8222-222222222222"
    event.Orgc = organisation
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{event.uuid}.json"
    path.write_text(json.dumps(event.to_feed()), encoding="utf-8")
    feed_meta_generator(directory)
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    assert list(manifest) == [event.uuid]
    return path.read_bytes()


def test_the_export_reads_back_as_the_same_intelligence(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World, tmp_path: Path
) -> None:
    incident = report(db_session, clock, world.reporter, tlp="TLP:GREEN")
    analyst = world.actor(world.analyst)
    amber = add_observable(db_session, analyst, incident, "sha256", "cd" * 32, clock=clock)
    amber.tlp = Tlp.AMBER  # stricter than the incident: its own tag
    add_observable(db_session, analyst, incident, "ipv4", "10.20.30.40", clock=clock)
    db_session.flush()
    response = client.get(
        f"/api/v1/incidents/{incident.reference}/misp", headers=world.headers(world.analyst)
    )
    assert response.status_code == 200
    exported = response.get_json()["Event"]
    event = MISPEvent()
    event.load(response.get_data(as_text=True))

    parsed = parse_event(published(event, tmp_path / "feed"))
    assert parsed.rejections == [] and parsed.skipped == 0
    records = {r.values[0].value: r for r in parsed.indicators}
    assert {(o.type, o.value) for o in incident.observables} == {
        (r.values[0].kind, value) for value, r in records.items()
    }
    for attribute in exported["Attribute"]:
        record = records[attribute["value"]]
        assert record.source_ref == attribute["uuid"]
        assert record.detect is attribute["to_ids"]
        assert record.name == exported["info"]
    assert records["cd" * 32].tlp == Tlp.AMBER
    assert records["185.220.101.4"].tlp == Tlp.GREEN and records["185.220.101.4"].detect
    assert records["10.20.30.40"].detect is False  # private: never an alert at the partner's

    feed = Feed(name="partner", kind=FeedKind.MISP_FEED, default_tlp=Tlp.AMBER, confidence=50,
                types=[], last_counts={}, created_at=clock.now())  # fmt: skip
    db_session.add(feed)
    db_session.flush()
    counts = store_records(db_session, feed, parsed, now=clock.now())
    assert counts.new == len(records)
    pairs = [(o.type, o.value) for o in incident.observables]
    found = match_observables(db_session, pairs, now=clock.now())
    met = {pair for pair, matches in zip(pairs, found, strict=True) if matches}
    assert met == {pair for pair in pairs if pair[1] != "10.20.30.40"}  # to_ids false: no match
