"""End to end: a report submitted through the API is acknowledged by e-mail that really arrives at
an SMTP server (aiosmtpd on loopback), in the reporter's language, exactly once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker

from cert.app import create_app
from core.auth.tokens import create_token
from core.clock import SystemClock
from core.config import SmtpSettings
from core.identity.authz import Actor
from core.mail_sender import drain_outbox
from core.mailers import SmtpMailer
from core.uow import transaction
from tests.dbs import TestDatabase
from tests.kit.factories import make_org, make_user
from tests.kit.smtp import smtp_server

BODY = {
    "title": "Défiguration du portail citoyen",
    "description": "La page d'accueil de hxxps://portail.sante[.]gov[.]ma a été remplacée.",
    "category": "information-content-security",
    "type": "unauthorised-information-modification",
    "impact": "critical",
    "urgency": "high",
    "tlp": "TLP:GREEN",
}


@pytest.mark.parametrize("locale", ["fr", "ar"])
def test_acknowledgement_arrives_at_the_smtp_server(
    fresh_database: TestDatabase, tmp_path: Path, locale: str
) -> None:
    factory = sessionmaker(bind=fresh_database.engine, expire_on_commit=False)
    clock = SystemClock()
    with transaction(factory) as session:
        org = make_org(session, clock, slug="min-sante")
        user = make_user(session, clock, org=org, email="rssi@sante.gov.ma", locale=locale)
        _token, secret = create_token(session, Actor.system("test"), user, label="t", clock=clock)
    settings: dict[str, Any] = {
        "instance_dir": tmp_path,
        "secret_key": "k" * 40,
        "database_url": fresh_database.url,
        "base_url": "https://vigie.macert.gov.ma",
        "mail_from": "maCERT <alerte@macert.gov.ma>",
    }
    app = create_app(settings, session_factory=factory)
    response = app.test_client().post(
        "/api/v1/incidents", json=BODY, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 201, response.get_json()
    reference = response.get_json()["reference"]

    with smtp_server() as server:
        mailer = SmtpMailer(SmtpSettings(host=server.host, port=server.port))
        counts = drain_outbox(
            factory, mailer, clock=clock, mail_from="maCERT <alerte@macert.gov.ma>"
        )
        assert counts["sent"] == 1
        assert drain_outbox(factory, mailer, clock=clock, mail_from="x@y.ma")["sent"] == 0
        received = server.handler.received
    assert len(received) == 1
    message = received[0].message
    assert received[0].rcpt_tos == ["rssi@sante.gov.ma"]
    assert reference in str(message["Subject"]) and "TLP:GREEN" in str(message["Subject"])
    assert message["Content-Language"] == locale
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    body = text.get_content()
    assert f"https://vigie.macert.gov.ma/track/{reference}" in body
    if locale == "ar":
        assert 'dir="rtl"' in html.get_content()
        assert "المرجع" in body
    else:
        assert "Référence" in body
