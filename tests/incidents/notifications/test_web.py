"""The notification centre's pages: the bell's unread count in the header (CERT staff only), the
list (newest first, keyset pages, the title only while the reader may still see the incident),
open and mark as read — one's own notifications only, another user's id is a 404 — the e-mail
preference on the account page and the on-duty rota (leads and admins); bad input is a 422."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.identity.authz import Actor
from incidents.models import Incident
from incidents.notifications import inbox, preferences
from incidents.notifications.models import EmailMode, Notification, NotificationKind
from incidents.notifications.recipients import scope
from incidents.workspace import conversation, workflow
from tests.incidents.notifications.scene import Cert, commit_and_deliver, make_cert, notifications
from tests.kit.factories import PASSWORD, report
from tests.kit.web import csrf_token, login, text

BELL = re.compile(r'class="badge rounded-pill vigie-bell-count">(\d+)<')


@pytest.fixture
def cert(db_session: Session, clock: FrozenClock) -> Cert:
    return make_cert(db_session, clock, login=True)


@pytest.fixture
def incident(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> Incident:
    """An AMBER incident: the lead is told (a new incident)."""
    found = report(db_session, clock, cert.reporter, title="Phishing au ministère")
    commit_and_deliver(db_session, session_factory, clock)
    return found


def bell(html: str) -> int | None:
    if 'class="vigie-bell' not in html:
        return None
    match = BELL.search(html)
    return int(match.group(1)) if match else 0


def post(client: FlaskClient, url: str, **data: str) -> TestResponse:
    token = csrf_token(text(client.get("/notifications")))
    return client.post(url, data={"csrf_token": token, **data})


def audited(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_bell_counts_the_unread_for_staff_only(
    client: FlaskClient, cert: Cert, incident: Incident
) -> None:
    assert bell(text(client.get("/login"))) is None  # anonymous
    login(client, cert.lead.email, PASSWORD)
    html = text(client.get("/"))
    assert bell(html) == 1
    assert 'aria-label="Notifications : 1 non lues"' in html
    client.post("/logout", data={"csrf_token": csrf_token(html)})
    login(client, cert.analyst.email, PASSWORD)
    assert bell(text(client.get("/"))) == 0  # staff with nothing unread: the bell, no number
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/")))})
    login(client, cert.reporter.email, PASSWORD)
    assert bell(text(client.get("/"))) is None  # reporters have no bell


def test_the_list_opens_and_marks_as_read(
    client: FlaskClient, db_session: Session, cert: Cert, incident: Incident
) -> None:
    login(client, cert.lead.email, PASSWORD)
    page = text(client.get("/notifications?lang=en"))
    assert f'New incident <bdi dir="ltr">{incident.reference}</bdi>' in page
    assert "Phishing au ministère" in page
    [mine] = notifications(db_session, cert.lead)
    opened = post(client, f"/notifications/{mine.id}/open")
    assert opened.status_code == 302
    assert opened.location.endswith(f"/incidents/{incident.reference}")
    db_session.expire_all()
    assert notifications(db_session, cert.lead)[0].read_at is not None
    assert bell(text(client.get("/"))) == 0
    assert [e.object_id for e in audited(db_session, "notification.read")] == [str(mine.id)]


def test_mark_one_and_mark_all(
    client: FlaskClient,
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
    incident: Incident,
) -> None:
    report(db_session, clock, cert.reporter)
    report(db_session, clock, cert.reporter)
    commit_and_deliver(db_session, session_factory, clock)
    login(client, cert.lead.email, PASSWORD)
    first, *_ = notifications(db_session, cert.lead)
    response = post(client, f"/notifications/{first.id}/read", next="/notifications?unread=1")
    assert response.location == "/notifications?unread=1"
    assert bell(text(client.get("/"))) == 2
    unread_page = text(client.get("/notifications?unread=1"))
    assert unread_page.count("vigie-notification-unread") == 2
    post(client, "/notifications/read-all", next="https://evil.example/")
    assert bell(text(client.get("/"))) == 0
    [entry] = audited(db_session, "notification.read_all")
    assert entry.after == {"count": 2}


def test_another_users_notification_is_not_found(
    client: FlaskClient, db_session: Session, cert: Cert, incident: Incident
) -> None:
    [theirs] = notifications(db_session, cert.lead)
    login(client, cert.analyst.email, PASSWORD)
    for action in ("read", "open"):
        assert post(client, f"/notifications/{theirs.id}/{action}").status_code == 404
    assert post(client, "/notifications/999999/read").status_code == 404
    db_session.expire_all()
    assert notifications(db_session, cert.lead)[0].read_at is None


def test_reporters_have_no_notification_centre(
    client: FlaskClient, db_session: Session, cert: Cert, incident: Incident
) -> None:
    [theirs] = notifications(db_session, cert.lead)
    login(client, cert.reporter.email, PASSWORD)
    assert client.get("/notifications").status_code == 404
    token = csrf_token(text(client.get("/account")))
    response = client.post(f"/notifications/{theirs.id}/read", data={"csrf_token": token})
    assert response.status_code == 404
    assert client.get("/notifications/rota").status_code == 404
    assert 'id="notifications-title"' not in text(client.get("/account"))


def test_a_red_incident_taken_away_shows_no_title(
    client: FlaskClient,
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
) -> None:
    red = report(db_session, clock, cert.reporter, title="Fuite au cabinet", tlp="TLP:RED")
    lead = Actor.for_user(cert.lead)
    workflow.assign(db_session, lead, red, cert.analyst, clock=clock)
    commit_and_deliver(db_session, session_factory, clock)
    login(client, cert.analyst.email, PASSWORD)
    assert "Fuite au cabinet" in text(client.get("/notifications"))
    workflow.assign(db_session, lead, red, cert.analyst2, clock=clock)  # taken away
    db_session.commit()
    page = text(client.get("/notifications?lang=en"))
    assert red.reference in page and "was assigned to you" in page
    assert "Fuite au cabinet" not in page
    assert "You can no longer see this incident." in page
    [mine] = notifications(db_session, cert.analyst)
    response = post(client, f"/notifications/{mine.id}/open")
    assert response.location == "/notifications"  # not the file


def test_bad_list_arguments_are_refused_with_the_field_named(
    client: FlaskClient, cert: Cert, incident: Incident
) -> None:
    login(client, cert.lead.email, PASSWORD)
    for query, name in (("unread=yes", "unread"), ("before=abc", "before"), ("before=0", "before")):
        response = client.get(f"/notifications?{query}", headers={"Accept": "application/json"})
        assert response.status_code == 422, query
        assert name in response.get_json()["error"]["fields"]


def test_keyset_pages_newest_first(
    client: FlaskClient, db_session: Session, clock: FrozenClock, cert: Cert, incident: Incident
) -> None:
    for _ in range(30):
        db_session.add(
            Notification(
                user_id=cert.lead.id,
                incident_id=incident.id,
                kind=NotificationKind.MENTIONED,
                created_at=clock.advance(minutes=1),
                mail_pending=False,
            )
        )
    db_session.commit()
    login(client, cert.lead.email, PASSWORD)
    first = text(client.get("/notifications?lang=en"))
    assert first.count('class="list-group-item vigie-notification') == 25
    older = re.search(r'href="(/notifications\?before=\d+)"', first)
    assert older is not None
    second = text(client.get(older.group(1).replace("&amp;", "&")))
    assert second.count('class="list-group-item vigie-notification') == 6  # 5 + the new incident
    assert "New incident" in second and "Older</span>" in second


def test_the_email_preference_on_the_account_page(
    client: FlaskClient, db_session: Session, cert: Cert
) -> None:
    login(client, cert.analyst.email, PASSWORD)
    page = text(client.get("/account?lang=en"))
    assert 'id="notifications-title"' in page
    assert re.search(r'value="immediate"[^>]*checked|checked[^>]*value="immediate"', page)
    token = csrf_token(page)
    response = client.post(
        "/notifications/preferences", data={"csrf_token": token, "email": "digest"}
    )
    assert response.status_code == 302
    assert preferences.email_mode(db_session, cert.analyst.id) is EmailMode.DIGEST
    assert "Your notification preference has been saved." in text(client.get("/account?lang=en"))
    bad = client.post("/notifications/preferences", data={"csrf_token": token, "email": "hourly"})
    assert bad.status_code == 303
    followed = text(client.get(bad.location))
    assert "Choose how notifications reach you by e-mail." in followed
    assert preferences.email_mode(db_session, cert.analyst.id) is EmailMode.DIGEST
    [entry] = audited(db_session, "notification.preference")
    assert entry.after == {"email": "digest"}


def test_the_rota_is_for_leads(
    client: FlaskClient, db_session: Session, clock: FrozenClock, cert: Cert, incident: Incident
) -> None:
    login(client, cert.analyst.email, PASSWORD)
    assert client.get("/notifications/rota").status_code == 403
    token = csrf_token(text(client.get("/notifications")))
    refused = client.post(
        f"/notifications/rota/national/{cert.analyst.id}",
        data={"csrf_token": token, "on_duty": "1"},
    )
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": token})
    login(client, cert.lead.email, PASSWORD)
    page = text(client.get("/notifications/rota?lang=en"))
    assert cert.on_duty.email in page and cert.analyst.email in page
    assert cert.reporter.email not in page
    token = csrf_token(page)
    url = f"/notifications/rota/national/{cert.analyst.id}"
    done = client.post(url, data={"csrf_token": token, "on_duty": "1"})
    assert done.status_code == 302 and done.location == "/notifications/rota?centre=national"
    assert cert.analyst.id in {user.id for user in scope(db_session, incident, at=clock.now())}
    assert "is on standing duty for" in text(client.get("/notifications/rota?lang=en"))
    assert client.post(url, data={"csrf_token": token, "on_duty": "x"}).status_code == 422
    assert client.get("/notifications/rota?centre=nowhere").status_code == 404
    reporter_url = f"/notifications/rota/national/{cert.reporter.id}"
    assert client.post(reporter_url, data={"csrf_token": token, "on_duty": "1"}).status_code == 404
    last = audited(db_session, "centre.duty")[-1]
    assert last.after == {"user": cert.analyst.email, "on_duty": True}


def test_the_queue_marks_an_answer_waiting(
    client: FlaskClient,
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
    incident: Incident,
) -> None:
    conversation.reporter_answer(
        db_session, Actor.for_user(cert.reporter), incident, "More logs", clock=clock
    )
    commit_and_deliver(db_session, session_factory, clock)
    login(client, cert.analyst.email, PASSWORD)
    page = text(client.get("/queue?lang=en"))
    row = page[page.index(incident.reference) :]
    row = row[: row.index("</tr>")]
    assert "Answer waiting" in row


def test_the_bell_without_a_database_leaves_the_page_standing(
    client: FlaskClient, cert: Cert, incident: Incident, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client, cert.lead.email, PASSWORD)

    def unreachable(*args: object) -> int:
        raise OperationalError("SELECT count(*)", {}, Exception("server closed the connection"))

    monkeypatch.setattr(inbox, "unread_count", unreachable)
    response = client.get("/?lang=en")
    assert response.status_code == 200
    html = text(response)
    assert 'aria-label="Notifications"' in html and bell(html) == 0
