"""Published bulletins in Vigie's TAXII 2.1 server, end to end on both databases: bulletins
written and published through the authoring services, ``bulletin.published`` delivered by the
real dispatcher to the ``bulletins.stix.taxii`` handler, the application served on loopback and
read with taxii2-client. A GREEN bulletin's report is in the GREEN collection for any
constituent; an AMBER one only for the concerned organisation's accounts and CERT staff; RED
and drafts never; a revision is a new version. Every page goes through the OASIS validator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy.orm import Session
from taxii2client.v21 import ApiRoot, Collection, as_pages
from werkzeug.serving import BaseWSGIServer, make_server

from bulletins.authoring import services as svc
from bulletins.handlers import HANDLERS
from bulletins.models import Bulletin
from cert.app import create_app
from core.clock import FrozenClock
from core.db import make_engine, make_session_factory
from core.events import deliver_events
from core.identity.authz import Actor
from core.identity.models import User
from core.markings import Tlp
from incidents.sharing import stix_objects as so
from incidents.sharing.collections import COLLECTIONS
from tests.bulletins.stix_check import assert_valid_objects
from tests.bulletins.test_authoring import SETTINGS, draft, people, published
from tests.dbs import BACKENDS, create_database
from tests.incidents.sharing.conftest import QuietHandler
from tests.incidents.sharing.test_taxii_server import Bearer
from tests.kit.config import SUITE_SETTINGS
from tests.kit.events import slice_settings
from tests.kit.world import World

ALIAS = {c.level: c.alias for c in COLLECTIONS}
CERT_NAME = "Centre national de test"  # CERT_NAME, not the reference prefix
TITLES = {
    "green": "Campagne d'hameçonnage visant les administrations",
    "amber": "Compromission d'un serveur du ministère de l'Intérieur",
    "red": "Opération en cours (diffusion restreinte)",
    "draft": "Brouillon non publié",
}


@dataclass
class Served:
    url: str
    factory: Any  # the served database's session factory
    clock: FrozenClock
    tokens: dict[str, str]  # analyst, interieur, sante
    references: dict[str, str]  # green, amber, red
    waiting: tuple[int, int]  # an approved GREEN bulletin, and the lead who may publish it

    def collection(self, who: str, level: Tlp) -> Collection:
        root = ApiRoot(f"{self.url}/taxii2/vigie/", auth=Bearer(self.tokens[who]))
        return next(c for c in root.collections if c.alias == ALIAS[level])


def _texts(key: str) -> dict[str, Any]:
    return {"fr": {"title": TITLES[key], "summary": f"Résumé : {key}"}}


def _arrange(session: Session, clock: FrozenClock) -> dict[str, Any]:
    world = World(session, clock)
    iocs = [{"type": "domain", "value": "webmail-interieur.com"}]
    green, _ = published(session, clock, world, kind="alert", tlp="green", texts=_texts("green"),
                         indicators=iocs)  # fmt: skip
    amber, _ = published(session, clock, world, kind="note", tlp="amber", texts=_texts("amber"),
                         organisations=[world.interieur.slug],
                         indicators=[{"type": "ipv4", "value": "192.0.2.77"}])  # fmt: skip
    red, _ = published(session, clock, world, tlp="red", texts=_texts("red"),
                       indicators=[{"type": "ipv4", "value": "203.0.113.66"}])  # fmt: skip
    author, lead, other = people(world)
    svc.create_draft(session, author, draft(tlp="clear", texts=_texts("draft")), clock=clock)
    # the GREEN alert's revision: a second indicator
    clock.advance(hours=3)
    svc.revise(session, lead, green, clock=clock)
    svc.update_draft(session, lead, green, draft(kind="alert", tlp="green", texts=_texts("green"),
                     indicators=[*iocs, {"type": "ipv4", "value": "185.220.101.4"}]),
                     clock=clock)  # fmt: skip
    svc.submit(session, lead, green, clock=clock)
    svc.approve(session, other, green, clock=clock)
    svc.publish(session, lead, green, clock=clock, settings=SETTINGS, change="Nouvel indicateur")
    late = svc.create_draft(session, author, draft(kind="alert", tlp="green", cves=[],
                            texts={"fr": {"title": "Alerte tardive"}}), clock=clock)  # fmt: skip
    svc.submit(session, author, late, clock=clock)
    svc.approve(session, lead, late, clock=clock)
    users = {"analyst": world.analyst, "interieur": world.reporter, "sante": world.other_reporter}
    refs: dict[str, Bulletin] = {"green": green, "amber": amber, "red": red}
    return {
        "tokens": {name: world.token(user) for name, user in users.items()},
        "references": {k: str(b.reference) for k, b in refs.items()},
        "waiting": (late.id, world.lead.id),
    }


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    directory: Path = tmp_path_factory.mktemp(f"bulletin-taxii-{request.param}")
    database = create_database(request.param, directory)
    clock = FrozenClock()
    with Session(database.engine, expire_on_commit=False) as session:
        arranged = _arrange(session, clock)
        session.commit()
    engine = make_engine(database.url)
    factory = make_session_factory(engine)
    settings = slice_settings(cert_name=CERT_NAME)
    counts = deliver_events(factory, HANDLERS, clock=clock, settings=settings)
    assert counts["delivered"] == 4 and counts["failed"] == 0  # 3 publications and a revision
    assert deliver_events(factory, HANDLERS, clock=clock, settings=settings)["delivered"] == 0
    app = create_app(
        {
            "instance_dir": directory / "instance",
            "upload_dir": directory / "uploads",
            "database_url": database.url,
            "secret_key": "bulletin-taxii-secret-" + "x" * 32,
            "smtp_url": "smtp://127.0.0.1:2525",
            "mail_from": "Vigie <cert@example.test>",
            "testing": True,
            "cert_name": CERT_NAME,
            **SUITE_SETTINGS,
        },
        session_factory=factory,
    )
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="bulletin-taxii", daemon=True)
    thread.start()
    yield Served(f"http://127.0.0.1:{server.server_port}", factory, clock, **arranged)
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    engine.dispose()
    database.drop()


def _all(collection: Collection, **filters: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for envelope in as_pages(collection.get_objects, per_request=2, **filters):
        page = envelope.get("objects", [])
        assert_valid_objects(page)
        found += page
    return found


def _reports(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["external_references"][0]["external_id"]: o for o in objects if o["type"] == "report"}


def test_the_objects_are_made_by_the_cert_named_in_cert_name(served: Served) -> None:
    """The identity served in the collection (the kernel's static object) and the one every
    stored bulletin object refers to are one: named ``CERT_NAME``, its id from the reference
    prefix (the same id whatever the name: a rename is not a new producer)."""
    objects = _all(served.collection("analyst", Tlp.GREEN))
    (identity,) = (o for o in objects if o["type"] == "identity")
    assert identity["name"] == CERT_NAME
    assert identity["id"] == so.Producer("MACERT", "maCERT").identity()["id"]
    made = [o for o in objects if o["type"] not in ("identity", "marking-definition")]
    assert made and {o["created_by_ref"] for o in made} == {identity["id"]}
    (report,) = _reports(objects).values()
    assert report["external_references"][0]["source_name"] == CERT_NAME


def test_each_reader_gets_the_bulletins_its_tlp_and_organisation_allow(served: Served) -> None:
    refs = served.references
    expected = {  # reader → level → bulletin references
        "analyst": {Tlp.CLEAR: set(), Tlp.GREEN: {refs["green"]}, Tlp.AMBER: {refs["amber"]}},
        "interieur": {Tlp.CLEAR: set(), Tlp.GREEN: {refs["green"]}, Tlp.AMBER: {refs["amber"]}},
        "sante": {Tlp.CLEAR: set(), Tlp.GREEN: {refs["green"]}, Tlp.AMBER: set()},
    }
    for who, levels in expected.items():
        for level, wanted in {**levels, Tlp.AMBER_STRICT: set()}.items():
            objects = _all(served.collection(who, level))
            assert set(_reports(objects)) == wanted, (who, level)
            text = str(objects)
            for never in (refs["red"], "203.0.113.66", TITLES["red"], TITLES["draft"]):
                assert never not in text, (who, level)
            if who == "sante":
                assert "192.0.2.77" not in text and TITLES["amber"] not in text


def test_the_green_report_and_its_indicators(served: Served) -> None:
    objects = _all(served.collection("sante", Tlp.GREEN), type="report,indicator,vulnerability")
    (report,) = _reports(objects).values()
    assert report["name"] == TITLES["green"] and report["modified"] > report["created"]
    patterns = {o["pattern"] for o in objects if o["type"] == "indicator"}
    assert patterns == {
        "[domain-name:value = 'webmail-interieur.com']",
        "[ipv4-addr:value = '185.220.101.4']",
    }
    assert set(report["object_refs"]) == {o["id"] for o in objects if o["type"] != "report"}
    assert [o["name"] for o in objects if o["type"] == "vulnerability"] == ["CVE-2026-21762"]


def test_a_revision_is_a_new_version(served: Served) -> None:
    collection = served.collection("interieur", Tlp.GREEN)
    (report,) = _reports(_all(collection, type="report")).values()
    versions = collection.object_versions(report["id"])["versions"]
    assert versions == [report["created"], report["modified"]]
    (latest,) = collection.get_object(report["id"])["objects"]
    assert latest == report
    (first,) = collection.get_object(report["id"], version="first")["objects"]
    assert first["modified"] == report["created"]
    every = collection.get_objects(id=report["id"], version="all")["objects"]
    assert [o["modified"] for o in every] == versions
    manifest = collection.get_manifest(type="report")["objects"]
    assert [r["version"] for r in manifest] == [report["modified"]]


def test_an_amber_bulletin_is_not_found_by_another_ministry(served: Served) -> None:
    (report,) = _reports(_all(served.collection("interieur", Tlp.AMBER), type="report")).values()
    theirs = served.collection("sante", Tlp.AMBER)
    with pytest.raises(requests.HTTPError) as caught:
        theirs.get_object(report["id"])
    assert caught.value.response.status_code == 404
    with pytest.raises(requests.HTTPError):
        theirs.object_versions(report["id"])


def test_pages_follow_the_keyset_and_a_new_publication_is_polled(served: Served) -> None:
    """(Last in the module: it publishes one more GREEN bulletin.)"""
    collection = served.collection("analyst", Tlp.GREEN)
    whole = collection.get_objects(limit=1000)["objects"]
    paged = [
        o for envelope in as_pages(collection.get_objects, per_request=1)
        for o in envelope.get("objects", [])
    ]  # fmt: skip
    assert [o["id"] for o in paged] == [o["id"] for o in whole] and len(whole) > 4
    response = requests.get(
        collection.objects_url, auth=Bearer(served.tokens["analyst"]), timeout=10,
        headers={"Accept": "application/taxii+json;version=2.1"},
    )  # fmt: skip
    checkpoint = response.headers["X-TAXII-Date-Added-Last"]
    assert collection.get_objects(added_after=checkpoint) == {"more": False}
    with served.factory() as session:
        bulletin_id, lead_id = served.waiting
        lead = Actor.for_user(session.get_one(User, lead_id))
        late = session.get_one(Bulletin, bulletin_id)
        served.clock.advance(minutes=5)
        svc.publish(session, lead, late, clock=served.clock, settings=SETTINGS)
        session.commit()
    deliver_events(
        served.factory, HANDLERS, clock=served.clock, settings=slice_settings(cert_name=CERT_NAME)
    )
    new = collection.get_objects(added_after=checkpoint)["objects"]
    assert [o["name"] for o in new if o["type"] == "report"] == ["Alerte tardive"]
    assert_valid_objects(new)
