"""The queue's ``has_match`` filter, real now: the filter language, ``GET /api/v1/incidents``
and the queue page (its dropdown, its chip, the rows' marker), on both databases; reporters
may not use it (which of their reports matched intelligence is CERT-internal)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from incidents.queue.filter import QueueFilter
from tests.kit import intel
from tests.kit.api import URL, envelope
from tests.kit.factories import MINIMAL, PHISHING, report
from tests.kit.web import sign_in, text
from tests.kit.world import World


def test_the_filter_reads_true_and_false_and_gives_them_back() -> None:
    assert QueueFilter.from_args({"has_match": "yes"}).has_match is True
    assert QueueFilter.from_args({"has_match": "0"}).has_match is False
    assert QueueFilter.from_args({}).has_match is None
    back = QueueFilter.from_args({"has_match": "true"}).to_args()
    assert back == {"has_match": ["true"]} and QueueFilter.from_args(back).has_match is True


def test_the_api_and_the_queue_keep_the_matched_incidents(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    intel.indicator(db_session, "ipv4", "185.220.101.4", confidence=30)
    matched = report(db_session, clock, world.reporter, PHISHING)
    plain = report(db_session, clock, world.reporter, MINIMAL)
    db_session.commit()
    staff = world.headers(world.analyst)

    def references(query: str) -> set[str]:
        response = client.get(f"{URL}?{query}", headers=staff)
        assert response.status_code == 200, response.get_data(as_text=True)
        return {item["reference"] for item in response.get_json()["items"]}

    assert references("has_match=true") == {matched.reference}
    assert references("has_match=false") == {plain.reference}
    assert references("") == {matched.reference, plain.reference}
    fields = envelope(client.get(f"{URL}?has_match=maybe", headers=staff), 422)["fields"]
    assert set(fields) == {"has_match"}
    # reporters may not ask
    mine = client.get(f"{URL}?has_match=true", headers=world.headers(world.reporter))
    assert set(envelope(mine, 403)["fields"]) == {"has_match"}

    sign_in(client, world.analyst)
    page = text(client.get("/queue?has_match=true&lang=fr"))
    assert matched.reference in page and plain.reference not in page
    assert "Avec une correspondance" in page  # the chip (and the selected option)
    assert page.count("vigie-intel-flag") == 1  # the row's marker
    everything = text(client.get("/queue?status=open"))
    assert everything.count("vigie-intel-flag") == 1 and plain.reference in everything
