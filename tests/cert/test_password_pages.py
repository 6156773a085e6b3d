"""The public pages of the links to set a password: "forgotten password" answers alike for any
address, the link arrives at a real SMTP server in the user's language and points at
CERT_BASE_URL whatever Host the request named, the link page works once and ends every session,
bad links get one same page, both pages are rate-limited and CSRF-protected."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.auth import resets
from core.clock import FrozenClock, SystemClock
from core.identity.models import PasswordReset
from core.mail_sender import drain_outbox
from core.outbox import OutboxMessage, OutboxStatus
from core.sealing import Sealer
from core.uow import transaction
from tests.dbs import TestDatabase
from tests.kit.config import SUITE_SETTINGS
from tests.kit.factories import PASSWORD, make_user
from tests.kit.leaks import places_holding
from tests.kit.outbox import SECRET_KEY, mailer_for, opened_context
from tests.kit.smtp import SmtpServer
from tests.kit.web import csrf_token, login, text

NEW_PASSWORD = "Seven quiet harbours at dusk"
BASE_URL = "http://vigie.macert.gov.ma"  # http: the test client sends no Secure cookie
LINK = re.compile(r"http://vigie\.macert\.gov\.ma/password/reset/[A-Za-z0-9_-]{43}")


def _forgot(client: FlaskClient, email: str, **headers: str) -> Any:
    token = csrf_token(text(client.get("/password/forgot", headers=headers)))
    return client.post(
        "/password/forgot", data={"csrf_token": token, "email": email}, headers=headers
    )


def _set(client: FlaskClient, path: str, new: str, again: str | None = None) -> Any:
    token = csrf_token(text(client.get(path)))
    data = {"csrf_token": token, "new_password": new, "confirm_password": again or new}
    return client.post(path, data=data)


def _mailed_path(db: Session, email: str) -> str:
    query = select(OutboxMessage).where(OutboxMessage.to_addr == email)
    row = db.scalars(query.order_by(OutboxMessage.id.desc())).first()
    assert row is not None
    return urlsplit(str(opened_context(row, SECRET_KEY)["link"])).path


@pytest.mark.parametrize(
    ("locale", "subject", "words"),
    [
        ("fr", "Vigie : définir un nouveau mot de passe", "Le lien fonctionne une seule fois"),
        ("ar", "Vigie: تعيين كلمة مرور جديدة", "يعمل الرابط مرة واحدة فقط"),
    ],
)
def test_a_forgotten_password_link_arrives_by_smtp_and_sets_the_password(
    fresh_database: TestDatabase,
    tmp_path: Path,
    smtp: SmtpServer,
    locale: str,
    subject: str,
    words: str,
) -> None:
    factory = sessionmaker(bind=fresh_database.engine, expire_on_commit=False)
    clock = SystemClock()
    with transaction(factory) as session:
        user = make_user(session, clock, email="rssi@sante.gov.ma", name="Leila", locale=locale)
    settings = {
        "instance_dir": tmp_path,
        "secret_key": SECRET_KEY,
        "database_url": fresh_database.url,
        "base_url": BASE_URL,
        "mail_from": "maCERT <alerte@macert.gov.ma>",
        "testing": True,
        **SUITE_SETTINGS,
    }
    app = create_app(settings, session_factory=factory)
    other_device = app.test_client()
    assert login(other_device, user.email, PASSWORD).status_code == 302
    browser = app.test_client()
    # a forged Host header must not end up in the link: it is made from CERT_BASE_URL
    assert _forgot(browser, "RSSI@sante.gov.ma", Host="evil.example").status_code == 200
    with transaction(factory) as session:
        [queued] = session.scalars(select(OutboxMessage)).all()
        token = opened_context(queued)["link"].rsplit("/", 1)[1]
        # the link is sealed at rest: nothing in the database shows it to whoever reads it
        assert places_holding(session, token) == []
    counts = drain_outbox(
        factory,
        mailer_for(smtp),
        clock=clock,
        mail_from="maCERT <alerte@macert.gov.ma>",
        sealer=Sealer(SECRET_KEY),
    )
    assert counts["sent"] == 1
    with transaction(factory) as session:
        assert places_holding(session, token) == []
        sent = session.scalars(select(OutboxMessage)).one()  # what the operator still sees
        assert (sent.status, sent.to_addr, sent.subject) == (
            OutboxStatus.SENT, "rssi@sante.gov.ma", subject,
        )  # fmt: skip
        assert sent.text_body is sent.html_body is sent.template_context is None
    [received] = smtp.handler.received
    message = received.message
    assert received.rcpt_tos == ["rssi@sante.gov.ma"] and message["Content-Language"] == locale
    assert str(message["Subject"]) == subject
    body = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert body is not None and html is not None
    plain = body.get_content()
    assert words in plain and "evil.example" not in plain + html.get_content()
    [link] = LINK.findall(plain)
    assert link in html.get_content() and link.endswith(token)
    path = link.removeprefix(BASE_URL)

    page = browser.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert 'autocomplete="new-password"' in text(page)
    done = _set(browser, path, NEW_PASSWORD)
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert other_device.get("/account").status_code == 302  # every session ended
    assert login(app.test_client(), user.email, PASSWORD).status_code == 200  # old one refused
    assert login(app.test_client(), user.email, NEW_PASSWORD).status_code == 302
    assert browser.get(path).status_code == 404  # used: the link is gone


def test_forgot_answers_alike_whether_the_address_exists_or_not(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    known = _forgot(client, user.email)
    unknown = _forgot(client, "nobody@example.gov.ma")
    for response in (known, unknown):
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        assert "Si un compte actif a cette adresse" in text(response)
    assert text(known) == text(unknown)
    sent = db_session.scalars(select(OutboxMessage.to_addr)).all()
    assert sent == [user.email]


def test_the_sign_in_page_links_to_the_forgotten_password_page(client: FlaskClient) -> None:
    assert 'href="/password/forgot"' in text(client.get("/login"))
    assert "Mot de passe oublié" in text(client.get("/password/forgot"))


def test_bad_links_all_get_the_same_page(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user, gone = make_user(db_session, clock), make_user(db_session, clock)
    _forgot(client, user.email)
    path = _mailed_path(db_session, user.email)
    _forgot(client, gone.email)
    gone_path = _mailed_path(db_session, gone.email)
    db_session.execute(  # an expired link
        PasswordReset.__table__.update()
        .where(PasswordReset.user_id == gone.id)
        .values(expires_at=clock.now())
    )
    db_session.flush()
    altered = path[:-1] + ("B" if path.endswith("A") else "A")
    paths = [gone_path, altered, "/password/reset/x", path + "x", path]
    pages = [client.get(p) for p in paths[:-1]]
    assert _set(client, path, NEW_PASSWORD).status_code == 302
    assert "Votre mot de passe a été défini." in text(client.get("/login"))
    pages.append(client.get(path))  # used
    # the same page, but for the address itself (in the language switcher's links)
    bodies = {text(page).replace(p, "PATH") for page, p in zip(pages, paths, strict=True)}
    assert {page.status_code for page in pages} == {404} and len(bodies) == 1
    assert "Ce lien ne fonctionne pas" in bodies.pop()


def test_a_refused_password_is_explained_in_the_users_language_and_the_link_still_works(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, name="Amina Tazi")
    _forgot(client, user.email)
    path = _mailed_path(db_session, user.email)
    client.get("/login?lang=ar")
    weak = _set(client, path, "password123456")
    assert weak.status_code == 422 and "شائعة جدًا" in text(weak)
    mismatch = _set(client, path, NEW_PASSWORD, "Something else entirely 42")
    assert mismatch.status_code == 422 and "غير متطابقتين" in text(mismatch)
    assert client.get(path).status_code == 200
    assert _set(client, path, NEW_PASSWORD).status_code == 302


def test_link_pages_need_their_csrf_token(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    assert client.post("/password/forgot", data={"email": user.email}).status_code == 400
    assert db_session.scalars(select(OutboxMessage)).all() == []
    _forgot(client, user.email)
    path = _mailed_path(db_session, user.email)
    data = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert client.post(path, data=data).status_code == 400
    assert resets.find_link(db_session, path.rsplit("/", 1)[1], clock=clock) is not None


def test_link_pages_are_rate_limited_like_sign_in(
    settings: dict[str, Any], session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    app = create_app(
        {**settings, "login_rate_limit": "2 per minute"},
        session_factory=session_factory,
        clock=clock,
    )
    client = app.test_client()
    forgot = {"csrf_token": csrf_token(text(client.get("/password/forgot"))), "email": "a@b.ma"}
    assert [client.post("/password/forgot", data=forgot).status_code for _ in range(3)] == [
        200, 200, 429,
    ]  # fmt: skip
    attempt = {"csrf_token": forgot["csrf_token"], "new_password": "x", "confirm_password": "x"}
    statuses = [client.post("/password/reset/" + "a" * 43, data=attempt).status_code for _ in "abc"]
    assert statuses == [404, 404, 429]
