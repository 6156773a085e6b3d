"""Leaving a list's digests, end to end on both databases: the link of a digest received at a
real aiosmtpd server, GET changes nothing, POST unsubscribes (twice is fine), the next digest
skips the address — not the organisation's registered contact; forged, altered and foreign
tokens are refused with a clear page."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bulletins.digests import tokens
from bulletins.models import DigestDelivery, DigestRun, ListUnsubscribe
from cert.app import create_app
from core.clock import FrozenClock
from core.db import SessionFactory
from core.identity.models import Role, User
from core.outbox import OutboxMessage
from core.uow import transaction
from tests.bulletins.digest_scene import (
    A_EXTRA,
    A_SOC,
    B_SOC,
    MONDAY_8AM,
    WEDNESDAY,
    build,
    publish_again,
    run,
    unsubscribe_path,
)
from tests.dbs import TestDatabase
from tests.kit.config import SUITE_SETTINGS
from tests.kit.factories import make_user
from tests.kit.outbox import SECRET_KEY, drain, mailer_for
from tests.kit.smtp import SmtpServer
from tests.kit.web import csrf_token, sign_in, text


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(WEDNESDAY)


@pytest.fixture
def live_app(
    fresh_database: TestDatabase, factory: sessionmaker[Session], clock: FrozenClock, tmp_path: Path
) -> Flask:
    config = {
        "testing": True,
        **SUITE_SETTINGS,
        "instance_dir": tmp_path / "instance",
        "upload_dir": tmp_path / "uploads",
        "database_url": fresh_database.url,
        "secret_key": SECRET_KEY,
        "mail_from": "Vigie <cert@example.test>",
    }
    return create_app(config, session_factory=factory, clock=clock)


def _left(factory: SessionFactory) -> list[tuple[int, str]]:
    with transaction(factory) as session:
        return [(u.list_id, u.email) for u in session.scalars(select(ListUnsubscribe))]


def test_unsubscribe_from_the_link_of_a_digest_then_the_next_one_skips_the_address(
    live_app: Flask, factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    scene = build(factory, clock)
    clock.set(MONDAY_8AM)
    run(factory, clock, scene.weekly_a)
    drain(factory, mailer_for(smtp), clock)
    [extra] = [r.message for r in smtp.handler.received if r.rcpt_tos == [A_EXTRA]]
    path = unsubscribe_path(extra)
    assert path is not None
    client = live_app.test_client()

    page = client.get(path)
    assert page.status_code == 200
    assert A_EXTRA in text(page) and "Se désabonner" in text(page)
    assert _left(factory) == []  # GET changes nothing

    token = csrf_token(text(page))
    done = client.post(path, data={"csrf_token": token})
    assert done.status_code == 200 and "Désabonnement enregistré" in text(done)
    again = client.post(path, data={"csrf_token": token})
    assert again.status_code == 200  # idempotent
    assert _left(factory) == [(scene.weekly_a, A_EXTRA)]

    smtp.handler.received.clear()
    clock.advance(days=3)  # Thursday: a bulletin published; next Monday its digest goes out
    publish_again(factory, clock)
    clock.advance(days=4)
    assert run(factory, clock, scene.weekly_a)["mails"] == 1
    drain(factory, mailer_for(smtp), clock)
    assert [r.rcpt_tos for r in smtp.handler.received] == [[A_SOC]]  # the contact stays


def test_forged_altered_and_foreign_tokens_are_refused(
    live_app: Flask, factory: SessionFactory, clock: FrozenClock
) -> None:
    scene = build(factory, clock)
    client = live_app.test_client()
    good = tokens.sign(SECRET_KEY, scene.weekly_a, A_EXTRA)
    forged = tokens.sign("another-key-" + "y" * 32, scene.weekly_a, A_EXTRA)
    altered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    for bad in (forged, altered, "not-a-token"):
        page = client.get(f"/advisories/unsubscribe/{bad}")
        assert page.status_code == 400
        assert "Lien de désabonnement invalide" in text(page)
        posted = client.post(f"/advisories/unsubscribe/{bad}", data={})
        assert posted.status_code in (400, 403)  # no CSRF token either: refused before anything
    gone = tokens.sign(SECRET_KEY, 999_999, A_EXTRA)
    assert client.get(f"/advisories/unsubscribe/{gone}").status_code == 404
    assert tokens.read(SECRET_KEY, good, max_age=-1) is None  # expired
    assert tokens.read(SECRET_KEY, good) == tokens.Unsubscription(scene.weekly_a, A_EXTRA)
    assert _left(factory) == []


def test_one_click_unsubscribe_from_the_headers_of_a_received_digest(
    live_app: Flask, factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    """RFC 2369 / RFC 8058: the digest carries ``List-Unsubscribe`` (the one-click address) and
    ``List-Unsubscribe-Post``; a POST of ``List-Unsubscribe=One-Click`` without cookie or CSRF
    token unsubscribes; a GET of the same address (a mail scanner) and any other POST do not.
    The organisation's registered contact gets neither header."""
    scene = build(factory, clock)
    clock.set(MONDAY_8AM)
    run(factory, clock, scene.weekly_a)
    drain(factory, mailer_for(smtp), clock)
    received = {r.rcpt_tos[0]: r.message for r in smtp.handler.received}
    extra, contact = received[A_EXTRA], received[A_SOC]
    assert contact["List-Unsubscribe"] is None and contact["List-Unsubscribe-Post"] is None
    assert extra["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = str(extra["List-Unsubscribe"])
    assert header == f"<https://vigie.cert.ma{unsubscribe_path(extra)}/one-click>"
    url = header[len("<https://vigie.cert.ma") : -1]
    client = live_app.test_client()

    scanned = client.get(url)
    assert scanned.status_code == 303 and scanned.headers["Location"].endswith(url[:-10])
    assert client.get(url, follow_redirects=True).status_code == 200  # the page, with its button
    for wrong in ({}, {"List-Unsubscribe": "yes"}, {"csrf_token": "x"}):
        assert client.post(url, data=wrong).status_code == 400
    forged = tokens.sign("another-key-" + "y" * 32, scene.weekly_a, A_EXTRA)
    refused = client.post(f"/advisories/unsubscribe/{forged}/one-click",
                          data={"List-Unsubscribe": "One-Click"})  # fmt: skip
    assert refused.status_code == 400
    assert client.post(url[:-10], data={"List-Unsubscribe": "One-Click"}).status_code == 400
    assert _left(factory) == []  # the page itself still wants its CSRF token

    fresh = live_app.test_client()  # a mail client: no cookie, no session
    done = fresh.post(url, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and done.get_data(as_text=True) == "unsubscribed\n"
    assert fresh.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert _left(factory) == [(scene.weekly_a, A_EXTRA)]


def test_each_recipient_of_a_digest_is_recorded_and_shown_to_cert_staff_only(
    live_app: Flask, factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    scene = build(factory, clock)
    clock.set(MONDAY_8AM)
    run(factory, clock, scene.weekly_a, scene.weekly_all)
    drain(factory, mailer_for(smtp), clock)
    with transaction(factory) as session:
        recorded = session.execute(
            select(DigestRun.list_id, DigestDelivery.email, OutboxMessage.to_addr,
                   OutboxMessage.status, DigestDelivery.bulletins)
            .join(DigestRun, DigestRun.id == DigestDelivery.run_id)
            .join(OutboxMessage, OutboxMessage.id == DigestDelivery.outbox_message_id)
            .where(DigestRun.list_id == scene.weekly_a)
            .order_by(DigestDelivery.email)
        ).all()  # fmt: skip
        lead = session.scalars(select(User).where(User.role == Role.LEAD)).first()
        reporter = make_user(session, clock, email="agent@interieur.gov.ma")  # a constituent
    assert [(e, to, str(status)) for _, e, to, status, _ in recorded] == [
        (A_SOC, A_SOC, "sent"),
        (A_EXTRA, A_EXTRA, "sent"),
    ]
    assert all(n == 2 for *_, n in recorded)  # the CLEAR and the AMBER bulletin about A
    assert lead is not None and reporter is not None

    staff = sign_in(live_app.test_client(), lead)
    assert "/bulletins/lists/interieur/digests" in text(staff.get("/bulletins/lists/interieur"))
    page = staff.get("/bulletins/lists/interieur/digests")
    assert page.status_code == 200
    shown = text(page)
    assert A_SOC in shown and A_EXTRA in shown and "Envoyé" in shown
    assert B_SOC not in shown  # another list's digest is not this list's
    assert staff.get("/bulletins/lists/nope/digests").status_code == 404
    outsider = sign_in(live_app.test_client(), reporter)
    assert outsider.get("/bulletins/lists/interieur/digests").status_code == 403
    anonymous = live_app.test_client().get("/bulletins/lists/interieur/digests")
    assert anonymous.status_code in (302, 401) and A_SOC not in text(anonymous)
