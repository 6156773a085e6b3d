"""The exposure check (issue 19's done-when): an organisation's registered domains and IP ranges
matched against the indicator index; new hits go to one incident per organisation and day, one
e-mail per contact and check listing them, never a hit twice."""

from __future__ import annotations

import ipaddress

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import organisations as orgs
from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import AssetKind, Organisation
from incidents.models import Incident
from playbooks.actions.exposure_index import spelt_prefixes
from playbooks.models import ExposureHit
from tests.kit.intel import indicator
from tests.kit.world import World
from tests.playbooks.checks_kit import execute, mails

ADMIN = Actor.system("test")


def _assets(session: Session, clock: FrozenClock, org: Organisation, *assets: str) -> None:
    for value in assets:
        kind = AssetKind.IP_RANGE if value[0].isdigit() else AssetKind.DOMAIN
        orgs.add_asset(session, ADMIN, org, kind=kind, value=value, clock=clock)
    session.flush()


def _setup(
    db_session: Session, clock: FrozenClock, world: World
) -> tuple[Organisation, Organisation]:
    interieur, sante = world.interieur, world.sante
    interieur.contact_emails = ["soc@interieur.gov.ma", "rssi@interieur.gov.ma"]
    sante.contact_emails = ["soc@sante.gov.ma"]
    _assets(db_session, clock, interieur, "interieur.gov.ma", "192.0.2.0/24")
    _assets(db_session, clock, sante, "sante.gov.ma", "198.51.100.0/24")
    return interieur, sante


def _incidents(session: Session, org: Organisation) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident).where(Incident.organisation_id == org.id).order_by(Incident.id)
        )
    )


def test_a_domain_in_the_index_opens_one_incident_a_day_with_new_hits_only(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    interieur, sante = _setup(db_session, clock, world)
    indicator(db_session, "domain", "interieur.gov.ma", ref="d1")
    indicator(db_session, "domain", "mail.interieur.gov.ma", ref="d2")
    indicator(db_session, "domain", "sante.gov.ma", ref="s1")  # another organisation's
    indicator(db_session, "domain", "notinterieur.gov.ma", ref="x1")  # not a subdomain
    indicator(db_session, "domain", "evil.example", ref="x2")

    outcome, run = execute(db_session, clock, interieur, "exposure-check")
    assert outcome.ok, outcome.error
    assert sorted(outcome.outputs["__hit_values__"]) == [
        "interieur.gov.ma",
        "mail.interieur.gov.ma",
    ]
    assert sorted(outcome.outputs["__new_hit_values__"]) == [
        "interieur.gov.ma",
        "mail.interieur.gov.ma",
    ]
    [incident] = _incidents(db_session, interieur)
    assert outcome.outputs["__incident_reference__"] == incident.reference
    assert run.incident_id == incident.id
    assert incident.category == "vulnerable" and incident.tlp == "TLP:AMBER"
    assert {o.value for o in incident.observables} == {"interieur.gov.ma", "mail.interieur.gov.ma"}
    first = mails(db_session)
    assert sorted(m.to_addr for m in first) == ["rssi@interieur.gov.ma", "soc@interieur.gov.ma"]
    for message in first:
        assert incident.reference in (message.subject or "")
        assert "mail.interieur.gov.ma" in (message.text_body or "")
        assert "sante" not in (message.text_body or "")
        assert message.tlp == "TLP:AMBER"

    # later the same day: one more subdomain indicated; the same incident gets it alone
    clock.advance(hours=2)
    indicator(db_session, "domain", "vpn.interieur.gov.ma", ref="d3")
    again, _ = execute(db_session, clock, interieur, "exposure-check")
    assert again.outputs["__new_hit_values__"] == ["vpn.interieur.gov.ma"]
    assert again.outputs["__incident_reference__"] == incident.reference
    assert len(again.outputs["__hit_values__"]) == 3
    assert _incidents(db_session, interieur) == [incident]
    db_session.refresh(incident)
    assert "vpn.interieur.gov.ma" in {o.value for o in incident.observables}
    second = mails(db_session)[len(first) :]
    assert len(second) == 2  # one per contact, listing the new hit only
    assert all("vpn.interieur.gov.ma" in (m.text_body or "") for m in second)
    assert all("mail.interieur.gov.ma" not in (m.text_body or "") for m in second)

    # a third check that day finds nothing new: nothing mailed, nothing added
    quiet, _ = execute(db_session, clock, interieur, "exposure-check")
    assert quiet.outputs["__new_hit_values__"] == [] and len(mails(db_session)) == 4
    assert quiet.outputs["__incident_reference__"] == incident.reference

    # the next day: a new incident, for the new hit only
    clock.advance(days=1)
    indicator(db_session, "domain", "www.interieur.gov.ma", ref="d4")
    next_day, _ = execute(db_session, clock, interieur, "exposure-check")
    assert next_day.outputs["__new_hit_values__"] == ["www.interieur.gov.ma"]
    incidents = _incidents(db_session, interieur)
    assert (
        len(incidents) == 2 and incidents[1].reference == next_day.outputs["__incident_reference__"]
    )
    assert {o.value for o in incidents[1].observables} == {"www.interieur.gov.ma"}
    assert _incidents(db_session, sante) == []


def test_an_ip_range_hits_on_addresses_and_networks_inside_it(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    interieur, sante = _setup(db_session, clock, world)
    indicator(db_session, "ipv4", "192.0.2.77", ref="a1")
    indicator(db_session, "ipv4", "192.0.2.128/25", ref="n1")
    indicator(db_session, "ipv4", "192.0.20.5", ref="x1")  # shares the text prefix "192.0.2"
    indicator(db_session, "ipv4", "192.0.3.1", ref="x2")
    indicator(db_session, "ipv4", "198.51.100.9", ref="s1")  # the Health ministry's range

    outcome, _ = execute(db_session, clock, interieur, "exposure-check")
    assert sorted(outcome.outputs["__hit_values__"]) == ["192.0.2.128/25", "192.0.2.77"]
    [incident] = _incidents(db_session, interieur)
    assert "192.0.2.77" in {o.value for o in incident.observables}
    bodies = " ".join(m.text_body or "" for m in mails(db_session))
    assert "192.0.2.128/25" in bodies and "198.51.100.9" not in bodies
    assert "sante.gov.ma" not in bodies

    assert incident.affected_assets == ["192.0.2.0/24"]

    other, _ = execute(db_session, clock, sante, "exposure-check")
    assert other.outputs["__hit_values__"] == ["198.51.100.9"]
    [theirs] = _incidents(db_session, sante)
    assert {o.value for o in theirs.observables} == {"198.51.100.9"}
    assert [m.to_addr for m in mails(db_session)][-1] == "soc@sante.gov.ma"


def test_notify_false_queues_nothing_and_revoked_indicators_do_not_hit(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    interieur, _ = _setup(db_session, clock, world)
    indicator(db_session, "domain", "old.interieur.gov.ma", ref="r1", revoked=True)
    indicator(db_session, "domain", "new.interieur.gov.ma", ref="r2")
    outcome, _ = execute(db_session, clock, interieur, "exposure-check", notify=False)
    assert outcome.outputs["__hit_values__"] == ["new.interieur.gov.ma"]
    assert mails(db_session) == []
    assert db_session.scalar(select(func.count()).select_from(ExposureHit)) == 1


def test_nothing_indicated_opens_nothing(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    interieur, _ = _setup(db_session, clock, world)
    outcome, run = execute(db_session, clock, interieur, "exposure-check")
    assert outcome.ok and outcome.outputs == {
        "__hits__": 0,
        "__new_hits__": 0,
        "__hit_values__": [],
        "__new_hit_values__": [],
        "__incident_reference__": "",
    }
    assert _incidents(db_session, interieur) == [] and run.incident_id is None
    refused, _ = execute(db_session, clock, None, "exposure-check")
    assert not refused.ok and "organisation" in (refused.error or "")


def test_range_prefixes_cover_every_spelling() -> None:

    assert spelt_prefixes(ipaddress.ip_network("10.20.0.0/16")) == ["10.20."]
    assert spelt_prefixes(ipaddress.ip_network("10.20.28.0/22")) == [
        "10.20.28.", "10.20.29.", "10.20.30.", "10.20.31."
    ]  # fmt: skip
    assert spelt_prefixes(ipaddress.ip_network("10.20.30.64/26")) == ["10.20.30."]
    assert spelt_prefixes(ipaddress.ip_network("10.0.0.0/7")) == []
    assert spelt_prefixes(ipaddress.ip_network("2001:db8:5::/48")) == ["2001:db8:5:"]
    assert spelt_prefixes(ipaddress.ip_network("2001:db8::/48")) == ["2001:db8:"]


def test_an_ipv6_range_hits(db_session: Session, clock: FrozenClock, world: World) -> None:
    interieur, _ = _setup(db_session, clock, world)
    _assets(db_session, clock, interieur, "2001:db8:5::/48")
    indicator(db_session, "ipv6", "2001:db8:5::1", ref="v1")
    indicator(db_session, "ipv6", "2001:db8:5:7::/64", ref="v2")
    indicator(db_session, "ipv6", "2001:db8:50::1", ref="x1")  # shares the text prefix
    indicator(db_session, "ipv6", "2001:db8:6::1", ref="x2")
    outcome, _ = execute(db_session, clock, interieur, "exposure-check")
    assert sorted(outcome.outputs["__hit_values__"]) == ["2001:db8:5:7::/64", "2001:db8:5::1"]
