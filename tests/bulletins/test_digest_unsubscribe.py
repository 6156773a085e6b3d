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
from bulletins.models import ListUnsubscribe
from cert.app import create_app
from core.clock import FrozenClock
from core.db import SessionFactory
from core.uow import transaction
from tests.bulletins.digest_scene import (
    A_EXTRA,
    A_SOC,
    MONDAY_8AM,
    WEDNESDAY,
    build,
    publish_again,
    run,
    unsubscribe_path,
)
from tests.dbs import TestDatabase
from tests.kit.hashing import CHEAP_SETTINGS
from tests.kit.outbox import SECRET_KEY, drain, mailer_for
from tests.kit.smtp import SmtpServer
from tests.kit.web import csrf_token, text


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(WEDNESDAY)


@pytest.fixture
def live_app(
    fresh_database: TestDatabase, factory: sessionmaker[Session], clock: FrozenClock, tmp_path: Path
) -> Flask:
    config = {
        "testing": True,
        **CHEAP_SETTINGS,
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
