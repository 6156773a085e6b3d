"""Observables that connect, on both databases: the marks on the file, where else each external
indicator was seen (counts and links), the possible campaign (file banner, queue flag), what is
never matched (private, documentation, the constituency's own), and a fixed number of queries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from core.auth.organisations import add_asset
from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import AssetKind, Organisation
from incidents.models import Incident, IncidentStatus
from incidents.observables import connections
from incidents.workspace import file_page, observables_admin
from tests.kit.factories import INFECTED_HOST, report
from tests.kit.web import sign_in, text
from tests.kit.world import World

SHARED = {
    "title": "Connexions suspectes",
    "description": "Connexions depuis 185.220.101[.]4 et le poste interne 10.12.4.57.",
    "category": "intrusion-attempts",
    "type": "brute-force",
}


def file_html(client: FlaskClient, incident: Incident, lang: str = "en") -> str:
    response = client.get(f"/incidents/{incident.reference}?lang={lang}")
    assert response.status_code == 200
    return text(response)


def row_of(html: str, value: str) -> str:
    """The observables table's row of ``value``."""
    rows = re.findall(r"<tr>.*?</tr>", html, re.S)
    [row] = [r for r in rows if f'<span dir="ltr">{value}</span>' in r]
    return row


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def register(world: World, org: Organisation, kind: AssetKind, value: str) -> None:
    add_asset(
        world.session, world.actor(world.admin), org, kind=kind, value=value, clock=world.clock
    )


# ---------------------------------------------------------------- seen in
def test_each_external_indicator_says_where_else_it_was_seen(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    older = report(db_session, clock, world.reporter, SHARED, title="Première vague")
    health = report(db_session, clock, world.other_reporter, SHARED, title="Vague santé")
    report(db_session, clock, world.reporter, INFECTED_HOST)  # other indicators
    mine = report(db_session, clock, world.reporter, SHARED)
    sign_in(client, world.analyst)
    html = file_html(client, mine)
    row = row_of(html, "185.220.101.4")
    assert "Seen in 2 other incidents · 2 organisations" in row
    for other in (older, health):
        assert f'href="/incidents/{other.reference}"' in row
    assert f'href="/incidents/{mine.reference}"' not in row  # never itself
    assert "/queue?q=185.220.101.4" in row
    # the private address is marked and connects nothing, though both reports carry it
    private = row_of(html, "10.12.4.57")
    assert "vigie-scope-private" in private and ">private<" in private
    assert "Seen in" not in private and older.reference not in private
    # in French and Arabic too
    assert "Vu dans 2 autres incidents · 2 organisations" in file_html(client, mine, "fr")
    assert "privée" in row_of(file_html(client, mine, "fr"), "10.12.4.57")
    assert "خاص" in row_of(file_html(client, mine, "ar"), "10.12.4.57")


def test_an_indicator_seen_nowhere_else_shows_no_count(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    alone = report(db_session, clock, world.reporter, SHARED)
    sign_in(client, world.analyst)
    assert "Seen in" not in file_html(client, alone)


def test_a_red_incident_the_analyst_may_not_open_is_neither_counted_nor_named(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    red = report(db_session, clock, world.other_reporter, SHARED, tlp="TLP:RED")
    mine = report(db_session, clock, world.reporter, SHARED)
    sign_in(client, world.analyst)
    html = file_html(client, mine)
    assert red.reference not in html and "Seen in" not in html
    assert "Possible campaign" not in html
    lead = Actor.for_user(world.lead)
    seen = file_page.connected(db_session, lead, mine).seen
    assert [(s.incidents, s.organisations) for s in seen.values()] == [(1, 1)]


def test_the_seen_in_counts_take_a_fixed_number_of_queries(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    analyst = Actor.for_user(world.analyst)

    def queries(count: int) -> int:
        values = " ".join(f"185.220.{count}.{i}" for i in range(1, count + 1))
        body = {**SHARED, "description": values}
        report(db_session, clock, world.other_reporter, body)
        mine = report(db_session, clock, world.reporter, body)
        db_session.expire_all()
        mine.observables  # noqa: B018 - loaded with the page's incident, before counting
        with statements(db_session) as seen:
            connected = file_page.connected(db_session, analyst, mine)
        assert len(connected.seen) == count and len(connected.campaign) == 1
        return len(seen)

    # assets; seen in: other incidents, the named ones; campaign: incidents, loaded
    assert queries(2) == queries(40) == 5


# ---------------------------------------------------------------- campaign
def test_sharing_an_indicator_with_another_organisation_s_open_incident_is_a_campaign(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    health = report(db_session, clock, world.other_reporter, SHARED, title="Vague santé")
    mine = report(db_session, clock, world.reporter, SHARED)
    sign_in(client, world.analyst)
    html = file_html(client, mine)
    banner = html[html.index("vigie-campaign") : html.index('id="observables"')]
    assert "Possible campaign" in banner and f'href="/incidents/{health.reference}"' in banner
    assert "Ministère de la Santé" in banner and "185.220.101.4" in banner
    assert "10.12.4.57" not in banner  # only external indicators are shared
    queue = text(client.get("/queue?lang=en"))
    rows = re.findall(r'name="incident" value="(MACERT-[^"]+)"', queue)
    assert sorted(rows) == sorted([mine.reference, health.reference])
    flagged = re.findall(r'value="(MACERT-[^"]+)"(?:(?!</tr>).)*vigie-campaign-flag', queue, re.S)
    assert sorted(flagged) == sorted(rows)
    assert "Campagne possible" in text(client.get("/queue?lang=fr"))
    assert "حملة محتملة" in text(client.get("/queue?lang=ar"))


def test_no_campaign_with_the_same_organisation_nor_a_closed_incident(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    closed = report(
        db_session, clock, world.other_reporter, SHARED, state={"status": IncidentStatus.CLOSED}
    )
    report(db_session, clock, world.reporter, SHARED, title="Même ministère")
    mine = report(db_session, clock, world.reporter, SHARED)
    sign_in(client, world.analyst)
    html = file_html(client, mine)
    assert "Possible campaign" not in html
    assert closed.reference in row_of(html, "185.220.101.4")  # still seen there
    assert "vigie-campaign-flag" not in text(client.get("/queue?status=open&lang=en"))


def test_private_documentation_and_own_addresses_make_no_campaign_nor_duplicate(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    register(world, world.interieur, AssetKind.IP_RANGE, "196.200.128.0/20")
    register(world, world.interieur, AssetKind.DOMAIN, "interieur.gov.ma")
    body = {
        **SHARED,
        "description": "Depuis 10.12.4.57, 192.168.1.20, 198.51.100.23, fe80::1 et 196.200.129.7 "
        "vers hxxps://portail[.]interieur[.]gov[.]ma/x et evil[.]example.",
    }
    first = report(db_session, clock, world.reporter, body)
    again = report(db_session, clock, world.reporter, body)
    health = report(db_session, clock, world.other_reporter, body)
    assert first.possible_duplicates == again.possible_duplicates == []
    sign_in(client, world.analyst)
    html = file_html(client, health)
    assert "Possible campaign" not in html and "Seen in" not in html
    assert "the constituency's own: Ministère de l&#39;Intérieur" in row_of(html, "196.200.129.7")
    assert "the constituency's own" in row_of(html, "portail.interieur.gov.ma")
    assert ">documentation<" in row_of(html, "198.51.100.23")
    assert ">documentation<" in row_of(html, "evil.example")
    assert ">link-local<" in row_of(html, "fe80::1")
    assert "vigie-campaign-flag" not in text(client.get("/queue?lang=en"))
    # the Arabic page names the organisation in Arabic
    assert "وزارة الداخلية" in row_of(file_html(client, health, "ar"), "196.200.129.7")


def test_an_external_indicator_still_makes_a_same_organisation_duplicate(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    first = report(db_session, clock, world.reporter, SHARED)
    second = report(db_session, clock, world.reporter, SHARED)
    private_only = {**SHARED, "description": "Le poste 10.12.4.57 encore."}
    third = report(db_session, clock, world.reporter, private_only)
    assert second.possible_duplicates == [first.reference]
    assert third.possible_duplicates == []


def test_an_indicator_an_analyst_adds_connects_at_once(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    health = report(db_session, clock, world.other_reporter, SHARED)
    mine = report(db_session, clock, world.reporter, {**SHARED, "description": "Rien."})
    sign_in(client, world.analyst)
    assert "Possible campaign" not in file_html(client, mine)
    observables_admin.add_observable(
        db_session, Actor.for_user(world.analyst), mine, "ipv4", "185.220.101.4", clock=clock
    )
    db_session.flush()
    html = file_html(client, mine)
    assert "Possible campaign" in html and health.reference in html


def test_the_queue_flags_a_page_in_one_query(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    analyst = Actor.for_user(world.analyst)
    for i in range(6):
        body = {**SHARED, "description": f"Depuis 185.220.{i}.4 et 10.0.0.{i + 1}"}
        report(db_session, clock, world.reporter, body)
        if i % 2:
            report(db_session, clock, world.other_reporter, body)
    # as a queue page loads them: the rows with their observables (one IN query)
    query = select(Incident).options(selectinload(Incident.observables)).order_by(Incident.id)
    incidents = list(db_session.scalars(query))
    constituency = connections.load_constituency(db_session)
    with statements(db_session) as seen:
        flagged = connections.campaign_flags(db_session, analyst, incidents, constituency)
    assert len(seen) == 1
    assert len(flagged) == 6  # three pairs: each side of each pair
    assert all(i.id in flagged for i in incidents if "185.220.1.4" in i.description)
    assert not any(i.id in flagged for i in incidents if "185.220.0.4" in i.description)


def test_an_indicator_held_by_many_incidents_reads_a_bounded_number_of_them(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A "hot" indicator costs at most SEEN_CAP rows; the file then says "3+" (cap lowered)."""
    monkeypatch.setattr(connections, "SEEN_CAP", 3)
    for by in (world.reporter, world.other_reporter, world.reporter, world.other_reporter):
        report(db_session, clock, by, SHARED)
    mine = report(db_session, clock, world.reporter, SHARED)
    sign_in(client, world.analyst)
    row = row_of(file_html(client, mine), "185.220.101.4")
    assert "Seen in 3+ other incidents · 2+ organisations" in row
    assert "Vu dans au moins 3 autres incidents" in row_of(
        file_html(client, mine, "fr"), "185.220.101.4"
    )
