"""``/queue`` and ``/queue.csv`` through the client: who may use them, filters in the URL, sorting
and pages, the CSV export (streamed, formula-safe) and the all-or-nothing bulk actions."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.identity.models import Organisation, User
from incidents.models import Incident, IncidentEvent, IncidentStatus
from tests.kit.factories import PASSWORD, make_user, report
from tests.kit.web import csrf_token, login, sign_in, text

ROW = re.compile(r'name="incident" value="([A-Z]+-\d{4}-\d{6})"')


def rows(html: str) -> list[str]:
    return ROW.findall(html)


def test_reporters_and_anonymous_cannot_reach_the_queue(
    client: FlaskClient, db_session: Session, clock: FrozenClock, interieur: Organisation
) -> None:
    assert client.get("/queue").status_code == 302  # to the login page
    assert "/login" in client.get("/queue.csv").headers["Location"]
    reporter = make_user(db_session, clock, org=interieur)
    login(client, reporter.email, PASSWORD)
    response = client.get("/queue")
    assert response.status_code == 302 and response.headers["Location"].endswith("/incidents/mine")
    assert client.get("/queue.csv").status_code == 403
    token = csrf_token(text(client.get("/account")))
    posted = client.post("/queue/bulk", data={"csrf_token": token, "action": "assign_me"})
    assert posted.status_code == 403
    assert client.post("/queue/filters", data={"csrf_token": token, "name": "x"}).status_code == 403


def test_filters_sorting_and_pages_in_the_url(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    analyst: User,
) -> None:
    sign_in(client, analyst)
    import incidents.queue.web as views

    made = [report(db_session, clock, interieur).reference for _ in range(3)]
    low = report(db_session, clock, interieur, impact="low", urgency="low").reference
    closed = report(db_session, clock, interieur, state={"status": IncidentStatus.CLOSED})
    html = text(client.get("/queue?status=open"))
    assert rows(html) == [low, *made[::-1]]
    assert rows(text(client.get("/queue"))) == rows(html)  # the default view: open incidents
    assert rows(text(client.get("/queue?status=closed"))) == [closed.reference]
    assert "4 incidents" in html or "4 incident" in html
    assert rows(text(client.get("/queue?priority=P4"))) == [low]
    by_priority = text(client.get("/queue?status=open&sort=priority"))
    assert rows(by_priority) == [*made, low]
    assert 'href="/queue?status=open&amp;sort=-priority"' in by_priority
    old, views.PAGE_SIZE = views.PAGE_SIZE, 3
    try:
        first = text(client.get("/queue?status=open"))
        next_link = re.search(r'rel="next" href="([^"]+)"', first)
        assert next_link and rows(first) == [low, *made[:0:-1]]
        second_url = next_link.group(1).replace("&amp;", "&")
        assert parse_qs(urlsplit(second_url).query)["status"] == ["open"]
        second = text(client.get(second_url))
        assert rows(second) == [made[0]]
        assert 'rel="prev"' in second
    finally:
        views.PAGE_SIZE = old


def test_a_bad_filter_names_the_field(client: FlaskClient, analyst: User) -> None:
    sign_in(client, analyst)
    response = client.get("/queue?priority=P9&sla=late")
    assert response.status_code == 422
    html = text(response)
    assert "<code>priority</code>" in html and "<code>sla</code>" in html
    assert client.get("/queue.csv?priority=P9").status_code == 422


def test_csv_export_is_streamed_filtered_and_formula_safe(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    analyst: User,
) -> None:
    sign_in(client, analyst)
    evil = report(db_session, clock, interieur, title='=HYPERLINK("http://evil.example","x")')
    report(db_session, clock, interieur, title="+cmd|' /C calc'!A0", impact="low", urgency="low")
    report(db_session, clock, interieur, tlp="TLP:RED", title="Secret")
    response = client.get("/queue.csv?priority=P2")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0][:3] == ["reference", "title", "organisation"]
    assert [r[0] for r in table[1:]] == [evil.reference]  # P2 only, the red one hidden
    assert table[1][1] == '\'=HYPERLINK("http://evil.example","x")'
    everything = client.get("/queue.csv").get_data().decode("utf-8-sig")
    assert "'+cmd|" in everything and "Secret" not in everything


def _bulk(client: FlaskClient, references: list[str], **fields: str) -> str:
    token = csrf_token(text(client.get("/queue")))
    data = {"csrf_token": token, "incident": references, "back": "/queue", **fields}
    response = client.post("/queue/bulk", data=data, follow_redirects=True)
    assert response.status_code == 200
    return text(response)


def test_bulk_assign_to_me_changes_every_selected_incident(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    analyst: User,
) -> None:
    sign_in(client, analyst)
    chosen = [report(db_session, clock, interieur) for _ in range(2)]
    untouched = report(db_session, clock, interieur)
    html = _bulk(client, [i.reference for i in chosen], action="assign_me")
    assert "2" in html
    db_session.expire_all()
    assert [i.assignee_id for i in chosen] == [analyst.id, analyst.id]
    assert untouched.assignee_id is None
    events = db_session.scalar(
        select(func.count()).select_from(IncidentEvent).where(IncidentEvent.kind == "assignment")
    )
    assert events == 2
    assert rows(text(client.get("/queue?assignee=me"))) == [i.reference for i in chosen[::-1]]


def test_bulk_is_all_or_nothing(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    analyst: User,
) -> None:
    sign_in(client, analyst)
    fresh = report(db_session, clock, interieur)
    closed = report(db_session, clock, interieur, state={"status": IncidentStatus.CLOSED})
    audits = db_session.scalar(select(func.count()).select_from(AuditEntry))
    html = _bulk(client, [fresh.reference, closed.reference], action="status", status="triaged")
    assert "Aucune modification n’a été effectuée" in html  # in the reader's language
    assert (
        f"{closed.reference} — État : impossible de passer de « Clôturé » à « En cours d’examen »"
        in html
    )
    db_session.expire_all()
    assert db_session.get(Incident, fresh.id).status == IncidentStatus.NEW  # type: ignore[union-attr]
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == audits
    html = _bulk(client, [fresh.reference], action="priority", priority="P1")
    assert "reason" in html  # a priority change needs its reason
    html = _bulk(client, [fresh.reference], action="priority", priority="P1", reason="VIP")
    db_session.expire_all()
    assert db_session.get(Incident, fresh.id).priority == "P1"  # type: ignore[union-attr]


def test_bulk_cannot_touch_what_the_analyst_cannot_see(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    analyst: User,
) -> None:
    sign_in(client, analyst)
    red = report(db_session, clock, interieur, tlp="TLP:RED")
    html = _bulk(client, [red.reference], action="assign_me")
    assert f"{red.reference} — introuvable" in html  # as if it did not exist
    db_session.expire_all()
    assert db_session.get(Incident, red.id).assignee_id is None  # type: ignore[union-attr]
