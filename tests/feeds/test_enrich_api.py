"""``POST /api/v1/enrich`` on both databases: results in the order given with each match's
context, known-benign values, bad input named (422, nothing else answered), CERT staff only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.markings import Tlp
from feeds.rules.records import Related
from tests.kit import intel
from tests.kit.api import envelope
from tests.kit.world import World

URL = "/api/v1/enrich"


def _post(client: FlaskClient, headers: dict[str, str], body: Any) -> Any:
    return client.post(URL, json=body, headers=headers)


def test_results_in_order_with_their_context(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    until = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    c2 = intel.indicator(
        db_session,
        "ipv4",
        "185.220.101.0/24",
        feed_name="abuse-feed",
        name="Tor exit C2",
        pattern="[ipv4-addr:value = '185.220.101.0/24']",
        stix_id="indicator--0b7e2a3c-6a1f-4b7e-9d4e-1c2b3a4d5e6f",
        confidence=80,
        tlp=Tlp.AMBER,
        valid_until=until,
        related=(Related("attack-pattern", "Phishing", external_id="T1566"),),
    )
    intel.indicator(db_session, "domain", "evil.example", feed_name="other", confidence=40)
    intel.indicator(db_session, "ipv4", "8.8.8.8", confidence=99)  # a bad list: benign wins
    intel.indicator(db_session, "sha256", "a" * 64, revoked=True)  # revoked: never
    db_session.commit()
    body = {
        "observables": [
            {"type": "domain", "value": "login.evil[.]example"},
            {"type": "ipv4", "value": "185.220.101.4"},
            {"type": "ipv4", "value": "8.8.8.8"},
            {"type": "sha256", "value": "A" * 64},
            {"type": "url", "value": "hxxps://evil[.]example/x"},
        ]
    }
    response = _post(client, world.headers(world.analyst), body)
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert [(r["type"], r["value"]) for r in results] == [
        ("domain", "login.evil.example"),
        ("ipv4", "185.220.101.4"),
        ("ipv4", "8.8.8.8"),
        ("sha256", "a" * 64),
        ("url", "https://evil.example/x"),
    ]
    assert [[m["why"] for m in r["matches"]] for r in results] == [
        ["parent-domain"], ["network"], [], [], ["url-host"],
    ]  # fmt: skip
    assert results[2]["warning_lists"] == ["List of known IPv4 public DNS resolvers"]
    assert all(r["warning_lists"] == [] for i, r in enumerate(results) if i != 2)
    assert results[1]["matches"][0] == {
        "indicator": {
            "id": c2.id,
            "name": "Tor exit C2",
            "pattern": "[ipv4-addr:value = '185.220.101.0/24']",
            "stix_id": "indicator--0b7e2a3c-6a1f-4b7e-9d4e-1c2b3a4d5e6f",
        },
        "source": "abuse-feed",
        "confidence": 80,
        "tlp": "TLP:AMBER",
        "why": "network",
        "matched": "185.220.101.0/24",
        "valid_until": "2027-01-01T00:00:00Z",
        "related": [
            {"type": "attack-pattern", "name": "Phishing", "external_id": "T1566", "stix_id": None}
        ],
    }


def test_bad_input_is_named_and_staff_only(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    staff = world.headers(world.analyst)
    bad = {
        "observables": [
            {"type": "ipv4", "value": "185.220.101.4"},
            {"type": "ipv4", "value": "999.1.1.1"},
            {"type": "colour", "value": "blue"},
            {"type": "domain"},
        ]
    }
    fields = envelope(_post(client, staff, bad), 422)["fields"]
    assert set(fields) == {"observables[1].value", "observables[2].type", "observables[3].value"}
    assert "999.1.1.1" in fields["observables[1].value"]
    assert set(envelope(_post(client, staff, {"observables": []}), 422)["fields"]) == {
        "observables"
    }
    many = {"observables": [{"type": "ipv4", "value": "192.0.2.1"}] * 1001}
    assert set(envelope(_post(client, staff, many), 422)["fields"]) == {"observables"}
    assert set(envelope(_post(client, staff, {"values": []}), 422)["fields"]) >= {"observables"}
    one = {"observables": [{"type": "ipv4", "value": "192.0.2.1"}]}
    envelope(_post(client, world.headers(world.reporter), one), 403)
    assert client.post(URL, json=one).status_code == 401
    assert client.post(URL, data="nope", headers=staff).status_code == 415
