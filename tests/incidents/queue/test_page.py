"""The queue page's markup and its "new incidents" endpoint, through the client: unique ids and
labels that point at a control, chips of the active filter (removable by link, names
translated, Arabic organisation names), the dropdowns of the filter bar, the shortcuts dialog of
staff pages, and ``GET /queue/new-count`` (staff only, counting what the filter matches since a
moment, never what the analyst may not see)."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.models import Organisation, User
from incidents.models import IncidentStatus
from tests.kit.factories import report
from tests.kit.web import sign_in, text


class Elements(HTMLParser):
    """Every id of a page, the ``for`` of its labels and the ``href`` of its chips."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.label_for: list[str] = []
        self.chips: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "label" and found.get("for"):
            self.label_for.append(str(found["for"]))
        if tag == "a" and found.get("class") == "vigie-chip-remove":
            self.chips.append(str(found["href"]))


def parse(page: str) -> Elements:
    elements = Elements()
    elements.feed(page)
    return elements


def test_ids_are_unique_and_every_label_points_at_a_control(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    analyst: User,
) -> None:
    sign_in(client, analyst)
    for _ in range(3):
        report(db_session, clock, interieur)
    report(db_session, clock, interieur, state={"status": IncidentStatus.CLOSED})
    assert client.post(
        "/queue/filters",
        data={"csrf_token": _token(client), "name": "Mes P1", "args": "priority=P1"},
    ).status_code in (302, 303)
    for url in ("/queue", "/queue?status=&sort=priority&tlp=clear,green,amber", "/queue?lang=ar"):
        page = text(client.get(url))
        elements = parse(page)
        repeated = [i for i, n in Counter(elements.ids).items() if n > 1]
        assert repeated == [], url
        assert elements.label_for, url
        assert set(elements.label_for) <= set(elements.ids), url
        assert len(re.findall(r'name="incident" value=', page)) >= 3, url
        # the bulk bar's controls are not the filter's: each label reaches its own control
        for name in ("action", "assignee", "status", "priority", "reason", "resolution"):
            assert re.search(rf'<label [^>]*for="bulk-{name}"', page), name
            assert re.search(
                rf'<(select|input|textarea)[^>]* id="bulk-{name}"[^>]* name="{name}"', page
            )
        assert 'id="filter-assignee" name="assignee"' in page
        assert 'id="queue-select-all"' in page and 'for="queue-select-all"' in page


def test_chips_name_each_filter_and_remove_it_by_link(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    sante: Organisation,
    analyst: User,
) -> None:
    sign_in(client, analyst)
    report(db_session, clock, interieur, impact="critical", urgency="critical")
    url = (
        "/queue?status=open&priority=P1&organisation=min-interieur&sector=health"
        "&assignee=none&q=hameçon&sort=priority"
    )
    page = text(client.get(url + "&lang=fr"))
    elements = parse(page)
    assert len(elements.chips) == 6
    chips = re.findall(r'<span class="vigie-chip-name">([^<]+)</span> <bdi>([^<]+)</bdi>', page)
    assert [(name, html.unescape(value)) for name, value in chips] == [
        ("Rechercher :", "hameçon"), ("État :", "Ouverts"), ("Priorité :", "P1"),
        ("Organisme :", "Ministère de l'Intérieur"), ("Secteur :", "Santé"),
        ("Attribué à :", "Non attribué"),
    ]  # fmt: skip
    removed = [parse_qs(urlsplit(href).query) for href in elements.chips]
    for args, (gone, value) in zip(
        removed,
        [("q", "hameçon"), ("status", "open"), ("priority", "P1"),
         ("organisation", "min-interieur"), ("sector", "health"), ("assignee", "none")],
        strict=True,
    ):  # fmt: skip
        assert value not in args.get(gone, []), (gone, args)
        assert args["sort"] == ["priority"]  # the rest of the filter and the sort stay
        assert len(args) == 6  # five other filters and the sort
    arabic = text(client.get(url + "&lang=ar"))
    assert "<bdi>وزارة الداخلية</bdi>" in arabic  # the organisation's Arabic name
    assert "<bdi>الصحة</bdi>" in arabic  # the sector, translated
    assert 'dir="auto">وزارة الصحة</label>' in arabic  # the filter's dropdown too
    row = text(client.get("/queue?status=open&lang=ar"))
    assert 'title="وزارة الداخلية">وزارة الداخلية</span>' in row  # and the row
    only_status = parse(text(client.get("/queue?status=open&lang=en")))
    assert only_status.chips == ["/queue?status="]  # all statuses, not the default view
    assert "No incident" not in text(client.get("/queue?status="))


def test_the_default_view_survives_a_language_switch(
    client: FlaskClient, db_session: Session, clock: FrozenClock, interieur: Organisation,
    analyst: User,
) -> None:  # fmt: skip
    sign_in(client, analyst)
    open_one = report(db_session, clock, interieur).reference
    closed = report(db_session, clock, interieur, state={"status": IncidentStatus.CLOSED})
    for url in ("/queue", "/queue?lang=ar", "/queue?lang=en"):
        page = text(client.get(url))
        assert open_one in page and closed.reference not in page, url
    assert closed.reference in text(client.get("/queue?status="))


def test_staff_pages_list_the_shortcuts_reporters_do_not(
    client: FlaskClient, reporter: User, analyst: User
) -> None:
    sign_in(client, reporter)
    page = text(client.get("/incidents/mine"))
    assert 'id="vigie-shortcuts"' not in page and "data-queue-url" not in page
    client.post("/logout", data={"csrf_token": _token(client, "/account")})
    sign_in(client, analyst)
    page = text(client.get("/account?lang=en"))
    assert 'data-queue-url="/queue"' in page
    assert '<dialog class="vigie-shortcuts p-0" id="vigie-shortcuts"' in page
    assert "Go to the queue" in page and "<kbd>g</kbd> <kbd>q</kbd>" in page


# ---------------------------------------------------------------- GET /queue/new-count
def _since(clock: FrozenClock) -> str:
    return clock.now().isoformat()


def test_new_count_counts_what_the_filter_matches_since_then(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    sante: Organisation,
    analyst: User,
) -> None:
    usual = report(db_session, clock, interieur).priority  # before: not new
    assert usual != "P1"
    sign_in(client, analyst)
    page = text(client.get(f"/queue?priority={usual}&lang=en"))
    poll = re.search(r'id="queue-new" data-url="([^"]+)"', page)
    assert poll
    url = html.unescape(poll.group(1))
    assert parse_qs(urlsplit(url).query)["priority"] == [usual]
    assert client.get(url).get_json() == {"count": 0, "more": False, "message": "0 new incidents"}
    clock.advance(seconds=1)  # the page was shown; time goes on
    report(db_session, clock, interieur)  # the same priority: counted
    report(db_session, clock, sante, impact="critical", urgency="critical")  # P1: not this filter
    report(db_session, clock, interieur, tlp="TLP:RED")  # not visible to the analyst
    response = client.get(url)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {"count": 1, "more": False, "message": "1 new incident"}
    since = url.split("since=")[1]
    everything = client.get(f"/queue/new-count?since={since}").get_json()
    assert everything["count"] == 2  # the P1 too; never the red one
    by_org = client.get(f"/queue/new-count?organisation=min-sante&since={since}").get_json()
    assert by_org["count"] == 1
    later = client.get(
        "/queue/new-count?since="
        + (clock.now() + dt.timedelta(minutes=1)).isoformat().replace("+", "%2B")
    ).get_json()
    assert later["count"] == 0
    moment = clock.now()
    for _ in range(100):  # received at the same moment: the session stays fresh
        report(db_session, clock, interieur)
        clock.set(moment)
    response = client.get(f"/queue/new-count?since={since}&lang=fr")
    assert response.status_code == 200, text(response)[:300]
    many = response.get_json()
    assert many == {"count": 99, "more": True, "message": "Plus de 99 nouveaux incidents"}


def test_new_count_refuses_bad_input_and_non_staff(
    client: FlaskClient, clock: FrozenClock, reporter: User, analyst: User
) -> None:
    since = _since(clock).replace("+", "%2B")
    json = {"Accept": "application/json"}
    anonymous = client.get(f"/queue/new-count?since={since}", headers=json)
    assert anonymous.status_code == 401
    sign_in(client, reporter)
    refused = client.get(f"/queue/new-count?since={since}", headers=json)
    assert refused.status_code == 403 and "count" not in refused.get_json()
    client.post("/logout", data={"csrf_token": _token(client, "/account")})
    sign_in(client, analyst)
    for bad in ("", "yesterday", "2026-03-01T10:00:00", "0001-01-01T00:00:00%2B00:00"):
        response = client.get(f"/queue/new-count?since={bad}", headers=json)
        assert response.status_code == 422, bad
        assert list(response.get_json()["error"]["fields"]) == ["since"]
    response = client.get(f"/queue/new-count?since={since}&priority=P9", headers=json)
    assert response.status_code == 422 and "priority" in response.get_json()["error"]["fields"]


def _token(client: FlaskClient, url: str = "/queue") -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get(url)))
    assert found
    return found.group(1)
