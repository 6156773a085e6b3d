"""Vigie's TAXII 2.1 server driven by taxii2-client over loopback HTTP, on both databases:
discovery, collections, pages (``as_pages``, keyset ``next``), ``added_after``, filters, manifest,
objects by id and versions, media types, authentication, and who sees what — a ministry never
sees another ministry's AMBER objects, nobody sees RED. Every page goes through the OASIS
validator."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from taxii2client.common import TokenAuth
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from core.markings import Tlp
from incidents.sharing.collections import COLLECTIONS
from incidents.sharing.taxii_params import TAXII_MEDIA
from tests.incidents.sharing.conftest import GREEN_FEED_INDICATOR, Taxii
from tests.incidents.sharing.stix_check import assert_valid_objects
from tests.kit.factories import INFECTED_HOST, make_org, report

ACCEPT = {"Accept": TAXII_MEDIA}
ALIAS = {c.level: c.alias for c in COLLECTIONS}


class Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def _root(taxii: Taxii, who: str) -> ApiRoot:
    if who == "analyst":  # HTTP Basic: e-mail and token
        return ApiRoot(taxii.root, user=taxii.users[who].email, password=taxii.tokens[who])
    return ApiRoot(taxii.root, auth=Bearer(taxii.tokens[who]))


def _collection(taxii: Taxii, who: str, level: Tlp) -> Collection:
    root = _root(taxii, who)
    return next(c for c in root.collections if c.alias == ALIAS[level])


def _all(collection: Collection, per_page: int = 1000, **filters: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for envelope in as_pages(collection.get_objects, per_request=per_page, **filters):
        page = envelope.get("objects", [])
        assert_valid_objects(page)
        found += page
    return found


def _values(objects: list[dict[str, Any]]) -> set[str]:
    return {o["pattern"].split("'")[1] for o in objects if o["type"] == "indicator"}


def test_discovery_and_collections(taxii: Taxii) -> None:
    server = Server(f"{taxii.url}/taxii2/", auth=TokenAuth(taxii.tokens["sante"]))
    assert server.title == "Vigie TAXII server"
    (root,) = server.api_roots
    assert root.url == taxii.root and root.versions == [TAXII_MEDIA]
    assert [c.alias for c in root.collections] == [ALIAS[t] for t in ALIAS]
    assert all(c.can_read and not c.can_write for c in root.collections)


# the phishing report's observables, less its RED e-mail and its warning-listed domain
GREEN = {"https://webmail-interieur.com/login.php", "webmail-interieur.com", "185.220.101.4"}
AMBER_INTERIEUR = {"192.0.2.10", "192.0.2.11"}
AMBER_SANTE = {"198.51.100.50"}
STRICT_SANTE = {"198.51.100.51"}
MATRIX = {  # reader → level → indicator values
    "analyst": {
        Tlp.CLEAR: set(),
        Tlp.GREEN: GREEN,
        Tlp.AMBER: AMBER_INTERIEUR | AMBER_SANTE | {"lead.example"},
        Tlp.AMBER_STRICT: STRICT_SANTE,
    },
    "interieur": {
        Tlp.CLEAR: set(),
        Tlp.GREEN: GREEN,
        Tlp.AMBER: AMBER_INTERIEUR,
        Tlp.AMBER_STRICT: set(),
    },
    "sante": {
        Tlp.CLEAR: set(),
        Tlp.GREEN: GREEN,
        Tlp.AMBER: AMBER_SANTE,
        Tlp.AMBER_STRICT: STRICT_SANTE,
    },
}


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_each_reader_sees_what_tlp_and_organisation_allow(taxii: Taxii, who: str) -> None:
    for level, expected in MATRIX[who].items():
        objects = _all(_collection(taxii, who, level))
        assert _values(objects) == expected, (who, level)
        markings = {ref for o in objects for ref in o.get("object_marking_refs", ())}
        shipped = {o["id"] for o in objects if o["type"] == "marking-definition"}
        assert markings <= shipped  # the TLP definition referred to is in the collection
        text = str(objects)
        for never in (
            "203.0.113.99",
            "203.0.113.98",
            "securite@interieur-gov.ma",
            "interieur-gov.ma'",
        ):
            assert never not in text  # RED incident, rejected incident, RED observable, listed
        sightings = [o for o in objects if o["type"] == "sighting"]
        if level is Tlp.GREEN:
            assert [s["sighting_of_ref"] for s in sightings] == [GREEN_FEED_INDICATOR]
        elif level is Tlp.AMBER_STRICT:  # the CERT's AMBER+STRICT intelligence: staff only
            assert len(sightings) == (1 if who == "analyst" else 0)


def test_pages_follow_the_keyset_and_added_after_polls(taxii: Taxii) -> None:
    collection = _collection(taxii, "analyst", Tlp.AMBER)
    whole = _all(collection)
    paged = _all(collection, per_page=2)
    assert [o["id"] for o in paged] == [o["id"] for o in whole]
    assert len({o["id"] for o in paged}) == len(paged) > 4
    first = collection.get_objects(limit=2)
    assert first["more"] is True and len(first["objects"]) == 2
    # the checkpoint: X-TAXII-Date-Added-Last of the last page, sent back as added_after
    response = requests.get(
        collection.objects_url, headers=ACCEPT, auth=Bearer(taxii.tokens["analyst"]), timeout=10
    )
    last = response.headers["X-TAXII-Date-Added-Last"]
    assert response.headers["X-TAXII-Date-Added-First"] <= last
    assert collection.get_objects(added_after=last) == {"more": False}
    with taxii.session() as session:
        taxii.clock.advance(hours=1)
        late = report(
            session, taxii.clock, make_org(session, taxii.clock), INFECTED_HOST,
            tlp="TLP:AMBER", description="Tard 192.0.2.200",
        )  # fmt: skip
        session.commit()
    try:
        assert _values(collection.get_objects(added_after=last)["objects"]) == {"192.0.2.200"}
    finally:
        with taxii.session() as session:
            session.delete(session.merge(late))
            session.commit()


def test_filters_manifest_object_and_versions(taxii: Taxii) -> None:
    collection = _collection(taxii, "analyst", Tlp.GREEN)
    whole = _all(collection)
    sightings = collection.get_objects(type="sighting")["objects"]
    assert [s["type"] for s in sightings] == ["sighting"]
    both = collection.get_objects(type=["sighting", "marking-definition"])["objects"]
    assert {o["type"] for o in both} == {"sighting", "marking-definition"}
    indicator = next(o for o in whole if o["type"] == "indicator")
    assert collection.get_objects(id=indicator["id"])["objects"] == [indicator]
    assert collection.get_object(indicator["id"])["objects"] == [indicator]
    for version in ("first", "last", "all", indicator["modified"]):
        assert indicator in collection.get_objects(version=version, type="indicator")["objects"]
    assert "objects" not in collection.get_objects(version="2020-01-01T00:00:00.000Z")
    assert collection.get_objects(spec_version="2.0") == {"more": False}
    assert collection.object_versions(indicator["id"])["versions"] == [indicator["modified"]]
    manifest = [
        r
        for page in as_pages(collection.get_manifest, per_request=3)
        for r in page.get("objects", [])
    ]
    assert [r["id"] for r in manifest] == [o["id"] for o in whole]
    assert all(r["media_type"] == "application/stix+json;version=2.1" for r in manifest)


def test_another_ministrys_amber_object_is_not_found(taxii: Taxii) -> None:
    theirs = _all(_collection(taxii, "sante", Tlp.AMBER))
    indicator = next(o for o in theirs if o["type"] == "indicator")
    mine = _collection(taxii, "interieur", Tlp.AMBER)
    with pytest.raises(requests.HTTPError) as caught:
        mine.get_object(indicator["id"])
    assert caught.value.response.status_code == 404
    assert "objects" not in mine.get_objects(id=indicator["id"])


def _raw(taxii: Taxii, path: str, method: str = "GET", **kwargs: Any) -> requests.Response:
    kwargs.setdefault("headers", ACCEPT)
    return requests.request(method, f"{taxii.root}{path}", timeout=10, **kwargs)


def test_authentication_media_types_and_errors(taxii: Taxii) -> None:
    anonymous = _raw(taxii, "collections/")
    assert anonymous.status_code == 401 and "Bearer" in anonymous.headers["WWW-Authenticate"]
    assert anonymous.headers["Content-Type"] == TAXII_MEDIA
    assert anonymous.json()["http_status"] == "401"
    analyst = taxii.users["analyst"]
    for auth in (
        Bearer("vig_not-a-token"),
        ("someone@else.example", taxii.tokens["analyst"]),  # another account's e-mail
        (analyst.email, "vig_wrong"),
    ):
        assert _raw(taxii, "collections/", auth=auth).status_code == 401
    broken = {"Authorization": "Basic !!!", **ACCEPT}
    assert _raw(taxii, "collections/", headers=broken).status_code == 401
    good = Bearer(taxii.tokens["analyst"])
    for accept in ("application/json", "application/taxii+json;version=2.0", "*/*"):
        wrong = _raw(taxii, "collections/", auth=good, headers={"Accept": accept})
        assert wrong.status_code == 406 and wrong.json()["title"] == "Not acceptable"
    assert _raw(taxii, "collections/", auth=good, headers={"Accept": "application/taxii+json"}).ok
    green = next(c.id for c in COLLECTIONS if c.level is Tlp.GREEN)
    assert _raw(taxii, "collections/not-a-collection/", auth=good).status_code == 404
    assert _raw(taxii, "nowhere/", auth=good).status_code == 404
    assert (
        _raw(taxii, f"collections/{green}/objects/", "POST", auth=good, json={}).status_code == 403
    )
    for bad in ("limit=0", "limit=x", "added_after=yesterday", "next=garbage", "match[colour]=red",
                "added_after=2026-01-01T00:00:00"):  # fmt: skip
        answer = _raw(taxii, f"collections/{green}/objects/?{bad}", auth=good)
        assert answer.status_code == 400, bad
        assert answer.json()["http_status"] == "400"
    capped = _raw(taxii, f"collections/{green}/objects/?limit=100000", auth=good)
    assert capped.ok  # capped silently, as the standard allows


def test_a_signed_in_browser_cookie_is_not_a_credential(client: Any, world: Any) -> None:
    world.sign_in(client, world.analyst)
    assert client.get("/queue").status_code == 200  # the cookie works on the pages
    answer = client.get("/taxii2/vigie/collections/", headers=ACCEPT)
    assert answer.status_code == 401
