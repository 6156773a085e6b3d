"""incidents.sharing.misp: the MISP event of an incident, read back by PyMISP (a real consumer)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from pymisp import MISPEvent

from core.markings import Pap, Tlp
from incidents.models import IncidentStatus, Priority
from incidents.observables.scope import Constituency, Owner
from incidents.sharing.misp import (
    NotShareable,
    SharedIncident,
    SharedObservable,
    attribute_uuid,
    build_event,
    event_uuid,
)

AT = dt.datetime(2026, 10, 24, 8, 30, tzinfo=dt.UTC)
INCIDENT = SharedIncident(
    reference="MACERT-2026-000042",
    category="fraud",
    type="phishing",
    tlp=Tlp.GREEN,
    pap=Pap.AMBER,
    priority=Priority.P1,
    status=IncidentStatus.IN_PROGRESS,
    detected_at=AT - dt.timedelta(hours=30),
    received_at=AT,
    updated_at=AT + dt.timedelta(hours=2),
)


def seen(type: str, value: str, tlp: Tlp = Tlp.GREEN, **more: Any) -> SharedObservable:  # noqa: A002
    return SharedObservable(type, value, tlp, AT, **more)


def loaded(incident: SharedIncident, *observables: SharedObservable, **kw: Any) -> MISPEvent:
    """The event as JSON text, loaded by PyMISP."""
    event = MISPEvent()
    event.load(json.dumps(build_event(incident, observables, **kw)))
    return event


def by_value(event: MISPEvent) -> dict[str, Any]:
    return {a.value: a for a in event.attributes}


def test_pymisp_reads_the_event_with_its_tags_levels_and_attributes() -> None:
    event = loaded(
        INCIDENT,
        seen("ipv4", "185.220.101.4"),
        seen("ipv6", "2a0e:1c80:3::12"),
        seen("domain", "webmail-interieur-gov.ma"),
        seen("url", "https://webmail-interieur-gov.ma/zimbra/login.php"),
        seen("email", "support-webmail@interieur-gouv.ma"),
        seen("md5", "5d41402abc4b2a76b9719d911017c592"),
        seen("sha1", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
        seen("sha256", "a3f1c9d2e8b7465f90c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3"),
        seen("cve", "CVE-2023-4966"),
    )
    assert event.info == "MACERT-2026-000042 — Fraud / Phishing"
    assert event.date == dt.date(2026, 10, 23)  # detected, UTC
    assert (event.threat_level_id, event.analysis, event.distribution) == (1, 1, 1)
    assert event.uuid == event_uuid("MACERT-2026-000042")
    assert event.timestamp == AT + dt.timedelta(hours=2)
    assert [t.name for t in event.tags] == ["tlp:green", "PAP:AMBER", 'rsit:fraud="phishing"']
    kinds = {a.value: (a.type, a.category, a.to_ids) for a in event.attributes}
    assert kinds == {
        "185.220.101.4": ("ip-dst", "Network activity", True),
        "2a0e:1c80:3::12": ("ip-dst", "Network activity", True),
        "webmail-interieur-gov.ma": ("domain", "Network activity", True),
        "https://webmail-interieur-gov.ma/zimbra/login.php": ("url", "Network activity", True),
        "support-webmail@interieur-gouv.ma": ("email-src", "Payload delivery", True),
        "5d41402abc4b2a76b9719d911017c592": ("md5", "Payload delivery", True),
        "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12": ("sha1", "Payload delivery", True),
        "a3f1c9d2e8b7465f90c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3": (
            "sha256",
            "Payload delivery",
            True,
        ),
        "CVE-2023-4966": ("vulnerability", "External analysis", False),
    }
    ip = by_value(event)["185.220.101.4"]
    assert ip.timestamp == AT and ip.distribution == 5 and not ip.tags
    assert ip.uuid == attribute_uuid("MACERT-2026-000042", "ipv4", "185.220.101.4")


@pytest.mark.parametrize(
    ("tlp", "distribution"),
    [(Tlp.CLEAR, 3), (Tlp.GREEN, 1), (Tlp.AMBER, 0), (Tlp.AMBER_STRICT, 0)],
)
def test_the_distribution_says_the_tlp_audience(tlp: Tlp, distribution: int) -> None:
    event = loaded(dataclasses.replace(INCIDENT, tlp=tlp))
    assert event.distribution == distribution
    assert event.tags[0].name == tlp.value.lower()  # tlp:amber+strict, TLP 2.0 spelling


def test_levels_follow_priority_and_status() -> None:
    for priority, level in ((Priority.P1, 1), (Priority.P2, 2), (Priority.P3, 3), (Priority.P4, 3)):
        assert loaded(dataclasses.replace(INCIDENT, priority=priority)).threat_level_id == level
    for status, analysis in (
        (IncidentStatus.NEW, 0),
        (IncidentStatus.TRIAGED, 0),
        (IncidentStatus.IN_PROGRESS, 1),
        (IncidentStatus.RESOLVED, 2),
        (IncidentStatus.CLOSED, 2),
    ):
        assert loaded(dataclasses.replace(INCIDENT, status=status)).analysis == analysis


def test_rsit_tag_without_a_type_and_info_without_the_reporter_text() -> None:
    event = loaded(dataclasses.replace(INCIDENT, category="other", type=None))
    assert "rsit:other" in [t.name for t in event.tags]
    assert event.info == "MACERT-2026-000042 — Other"
    dumped = json.dumps(build_event(INCIDENT, []))
    assert "title" not in dumped and "description" not in dumped


def test_red_never_leaves_and_a_stricter_observable_carries_its_own_tlp() -> None:
    with pytest.raises(NotShareable):
        build_event(dataclasses.replace(INCIDENT, tlp=Tlp.RED), [])
    event = loaded(
        INCIDENT,
        seen("ipv4", "91.92.242.18", Tlp.AMBER),
        seen("ipv4", "45.95.147.236", Tlp.RED),
        seen("ipv4", "185.220.101.4", Tlp.CLEAR),
    )
    values = by_value(event)
    assert set(values) == {"91.92.242.18", "185.220.101.4"}  # RED left out
    amber = values["91.92.242.18"]
    assert [t.name for t in amber.tags] == ["tlp:amber"] and amber.distribution == 0
    clear = values["185.220.101.4"]  # not looser than the event: inherits it
    assert not clear.tags and clear.distribution == 5


def test_to_ids_is_false_for_known_benign_and_non_internet_values() -> None:
    event = loaded(
        INCIDENT,
        seen("ipv4", "8.8.8.8", warning_lists=("List of known IPv4 public DNS resolvers",)),
        seen("ipv4", "10.1.2.3"),
        seen("ipv4", "198.51.100.70"),  # documentation (TEST-NET-2)
        seen("ipv6", "fe80::1"),
        seen("domain", "dc01.corp"),
        seen("url", "http://192.168.1.10/a.exe"),
        seen("ipv4", "91.92.242.18"),
    )
    values = by_value(event)
    detect = {value: a.to_ids for value, a in values.items()}
    assert detect == {
        "8.8.8.8": False,
        "10.1.2.3": False,
        "198.51.100.70": False,
        "fe80::1": False,
        "dc01.corp": False,
        "http://192.168.1.10/a.exe": False,
        "91.92.242.18": True,
    }
    assert "public DNS resolvers" in values["8.8.8.8"].comment


def test_the_constituency_own_assets_are_left_out() -> None:
    owner = Owner(7, "Ministère de l'Intérieur")
    constituency = Constituency([("203.0.113.0/27", owner)], [("interieur.gov.ma", owner)])
    event = loaded(
        INCIDENT,
        seen("domain", "webmail.interieur.gov.ma"),
        seen("url", "https://vpn.interieur.gov.ma/login"),
        seen("email", "svc@interieur.gov.ma"),
        seen("ipv4", "203.0.113.5"),
        seen("domain", "interieur-gouv.ma"),
        constituency=constituency,
    )
    assert [a.value for a in event.attributes] == ["interieur-gouv.ma"]


def test_identifiers_are_stable_and_distinct() -> None:
    observables = [seen("ipv4", "185.220.101.4"), seen("domain", "evil.example.ma")]
    first, again = build_event(INCIDENT, observables), build_event(INCIDENT, observables)
    assert first == again
    uuids = [a["uuid"] for a in first["Event"]["Attribute"]]
    other = dataclasses.replace(INCIDENT, reference="MACERT-2026-000043")
    others = [a["uuid"] for a in build_event(other, observables)["Event"]["Attribute"]]
    assert len(set(uuids + others)) == 4
    assert event_uuid(other.reference) != first["Event"]["uuid"]
