"""The intel pages on both databases, through the real app: indicator search (exact canonical
value, prefix, filters, keyset pages), an indicator with its context, relations and sightings,
an ATT&CK technique linking incidents to the attack pattern their indicators relate to — and
who may see what: reporters get a 404 on every page, a TLP:RED incident's sighting is listed
only to who may see the incident, bad input is a 422, never a 500."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from feeds.models import Indicator
from incidents.intel import browse
from incidents.models import Incident
from tests.incidents.intel.context_scene import IP, context, sighted
from tests.kit import intel
from tests.kit.factories import INFECTED_HOST, report
from tests.kit.web import logout, sign_in, text
from tests.kit.world import World


@pytest.fixture
def scene(db_session: Session, clock: FrozenClock, world: World) -> dict[str, object]:
    indicator = context(db_session)
    amber = report(db_session, clock, world.reporter, INFECTED_HOST, title="Poste infecté AMBER")
    red = report(
        db_session, clock, world.reporter, INFECTED_HOST, title="Poste secret", tlp="TLP:RED"
    )
    sighted(db_session, clock, amber)
    sighted(db_session, clock, red)
    db_session.commit()
    return {"indicator": indicator, "amber": amber, "red": red}


def test_an_indicator_shows_its_context_relations_and_sightings_within_tlp(
    client: FlaskClient, world: World, scene: dict[str, object]
) -> None:
    indicator, amber, red = scene["indicator"], scene["amber"], scene["red"]
    assert isinstance(indicator, Indicator)
    assert isinstance(amber, Incident) and isinstance(red, Incident)
    sign_in(client, world.analyst)
    page = text(client.get(f"/intel/indicators/{indicator.id}"))
    assert "Emotet C2 server" in page and "mitre-feed" in page and "85" in page
    assert f"[ipv4-addr:value = &#39;{IP}&#39;]" in page
    assert "Emotet" in page and "Geodo" in page  # the malware it indicates
    assert amber.reference in page and "Poste infecté AMBER" in page
    assert red.reference not in page  # TLP:RED: not the analyst's
    assert "/intel/techniques/" not in page  # the technique is one hop away, not related
    logout(client)
    sign_in(client, world.lead)
    assert red.reference in text(client.get(f"/intel/indicators/{indicator.id}"))


def test_a_technique_links_incidents_to_the_attack_pattern(
    client: FlaskClient, world: World, scene: dict[str, object]
) -> None:
    amber, red = scene["amber"], scene["red"]
    assert isinstance(amber, Incident) and isinstance(red, Incident)
    sign_in(client, world.analyst)
    page = text(client.get("/intel/techniques/t1566"))
    assert "T1566" in page and "Phishing" in page
    assert "Emotet C2 server" in page  # indicates Emotet, which uses T1566
    assert amber.reference in page and red.reference not in page
    other = text(client.get("/intel/techniques/T1059?lang=en"))
    assert "No indicator is related to this technique." in other
    assert amber.reference not in other
    assert client.get("/intel/techniques/T9999").status_code == 404


def test_search_by_exact_value_prefix_and_filters(
    client: FlaskClient, world: World, scene: dict[str, object], db_session: Session
) -> None:
    intel.indicator(db_session, "domain", "evil-corp.example", feed_name="abuse-feed")
    intel.indicator(db_session, "domain", "evil-twin.example", feed_name="abuse-feed")
    intel.indicator(db_session, "url", "https://evil-corp.example/gate.php", feed_name="abuse-feed")
    db_session.commit()
    sign_in(client, world.analyst)
    page = text(client.get("/intel/indicators", query_string={"q": "EVIL-CORP[.]example"}))
    assert "evil-corp.example" in page and "evil-twin.example" not in page  # refanged, exact
    assert "https://evil-corp.example/gate.php" not in page  # a URL does not begin with it
    prefix = text(client.get("/intel/indicators", query_string={"q": "evil-"}))
    assert "evil-corp.example" in prefix and "evil-twin.example" in prefix
    typed = text(client.get("/intel/indicators", query_string={"q": "https://evil", "type": "url"}))
    assert "gate.php" in typed and "evil-twin.example" not in typed
    by_ip = text(client.get("/intel/indicators", query_string={"q": IP, "tlp": "TLP:GREEN"}))
    assert "Emotet C2 server" in by_ip
    assert "Emotet C2 server" not in text(
        client.get("/intel/indicators", query_string={"q": IP, "tlp": "TLP:RED"})
    )
    assert "Emotet C2 server" in text(client.get("/intel/indicators", query_string={"live": "1"}))
    for bad in ({"type": "nope"}, {"tlp": "TLP:PINK"}, {"live": "2"}, {"after": "x"}):
        assert client.get("/intel/indicators", query_string=bad).status_code == 422


def test_search_pages_by_keyset_in_value_order(db_session: Session, clock: FrozenClock) -> None:
    for n in range(browse.PAGE + 5):
        intel.indicator(db_session, "domain", f"host{n:03d}.keyset.example")
    intel.indicator(db_session, "url", "https://host000.keyset.example/")
    search = browse.Search(q="host")
    first = browse.search_indicators(db_session, search, now=clock.now())
    assert len(first.rows) == browse.PAGE and first.next_cursor is not None
    second = browse.search_indicators(db_session, search, now=clock.now(), after=first.next_cursor)
    values = [r.value for r in first.rows + second.rows]
    assert values == sorted(values) and len(values) == len(set(values)) == browse.PAGE + 5
    assert second.next_cursor is None
    newest = browse.search_indicators(db_session, browse.Search(), now=clock.now())
    older = browse.search_indicators(
        db_session, browse.Search(), now=clock.now(), after=newest.next_cursor
    )
    ids = [r.indicator.id for r in newest.rows + older.rows]
    assert ids == sorted(ids, reverse=True) and len(ids) == browse.PAGE + 6


def test_reporters_get_404_everywhere_and_strangers_are_sent_to_sign_in(
    client: FlaskClient, world: World, scene: dict[str, object]
) -> None:
    indicator = scene["indicator"]
    assert isinstance(indicator, Indicator)
    urls = ["/intel/indicators", f"/intel/indicators/{indicator.id}", "/intel/techniques/T1566"]
    for url in urls:
        assert client.get(url).status_code == 302  # to the sign-in page
    sign_in(client, world.reporter)
    home = text(client.get("/"))
    assert "/intel/indicators" not in home  # no nav entry
    for url in urls:
        assert client.get(url).status_code == 404
    logout(client)
    sign_in(client, world.analyst)
    assert re.search(r'href="/intel/indicators"', text(client.get("/")))
    assert client.get("/intel/indicators/999999").status_code == 404
