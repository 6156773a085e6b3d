"""Mail that carries a secret (a link to set a password) is sealed at rest: no table holds the
link in clear while it waits, between attempts or after; only the sender opens it, with the key
derived from CERT_SECRET_KEY, and the sealed content is dropped once the mail is sent or given
up — on both DBs, through a real SMTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cert.cli import cli
from core.clock import FrozenClock
from core.db import SessionFactory
from core.mail import insert_template_mail
from core.mail_sender import drain_outbox
from core.mailers import MemoryMailer
from core.outbox import OutboxStatus
from core.sealing import PREFIX, CannotOpen, Sealer
from core.uow import transaction
from tests.dbs import TestDatabase
from tests.kit.leaks import places_holding
from tests.kit.outbox import DOMAIN, SECRET_KEY, all_rows, drain, mailer_for
from tests.kit.smtp import SmtpServer

TEMPLATE = "core:auth/email/password_reset"
TOKEN = "Zq3x9TfYp0wL7mA2bC4dE6gH8jK1nR5sU-vW_yX3zQ0"
LINK = f"https://vigie.example/password/reset/{TOKEN}"


def _context() -> dict[str, Any]:
    return {
        "recipient_name": "Leila",
        "email": "rssi@sante.gov.ma",
        "invite": False,
        "link": LINK,
        "site": "https://vigie.example",
        "hours": 24,
        "expires_at": "2026-11-16T10:00:00+00:00",
        "timezone": "Africa/Casablanca",
        "city": "Casablanca",
    }


def _queue(factory: SessionFactory, clock: FrozenClock, *, sealed: bool = True) -> None:
    with transaction(factory) as session:
        insert_template_mail(
            session,
            to="rssi@sante.gov.ma",
            template=TEMPLATE,
            context=_context(),
            related=("user", 1),
            clock=clock,
            mail_domain=DOMAIN,
            sealer=Sealer(SECRET_KEY) if sealed else None,
        )


def _leaks(factory: SessionFactory) -> list[str]:
    with transaction(factory) as session:
        return places_holding(session, TOKEN)


def test_the_search_finds_a_link_queued_unsealed(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    _queue(factory, clock, sealed=False)  # what the outbox held before sealing
    assert _leaks(factory) == ["outbox_messages.template_context"]


def test_a_sealed_link_is_delivered_in_clear_and_never_stored_in_clear(
    factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    _queue(factory, clock)
    assert _leaks(factory) == []
    failing = MemoryMailer(fail_with=OSError("relay down"))
    assert drain(factory, failing, clock)["retried"] == 1
    [waiting] = all_rows(factory)  # rendered once, kept sealed for the next attempts
    assert waiting.text_body is not None and waiting.text_body.startswith(PREFIX)
    assert waiting.html_body is not None and waiting.html_body.startswith(PREFIX)
    assert waiting.template_context is None and _leaks(factory) == []
    clock.advance(minutes=5)
    assert drain(factory, mailer_for(smtp), clock)["sent"] == 1
    [received] = smtp.handler.received
    plain = received.message.get_body(("plain",))
    assert plain is not None and LINK in plain.get_content()
    [sent] = all_rows(factory)  # the operator keeps who, what and when; the secret is gone
    assert (sent.status, sent.to_addr, sent.subject) == (
        OutboxStatus.SENT, "rssi@sante.gov.ma", "Vigie : définir un nouveau mot de passe",
    )  # fmt: skip
    assert sent.text_body is sent.html_body is sent.template_context is None
    assert [attempt.ok for attempt in sent.attempt_log] == [False, True]
    assert _leaks(factory) == []


@pytest.mark.parametrize(
    ("secret_key", "error"),
    [("another-secret-key-" + "y" * 30, "CannotOpen"), (None, "no key to open it")],
)
def test_a_sealed_mail_that_cannot_be_opened_fails_and_is_dropped(
    factory: SessionFactory, clock: FrozenClock, secret_key: str | None, error: str
) -> None:
    _queue(factory, clock)
    mailer = MemoryMailer()
    if secret_key is None:
        counts = drain_outbox(factory, mailer, clock=clock, mail_from="cert@cert.example")
    else:
        counts = drain(factory, mailer, clock, secret_key=secret_key)
    assert counts == {"sent": 0, "retried": 0, "failed": 1} and mailer.sent == []
    [row] = all_rows(factory)
    assert row.status == OutboxStatus.FAILED and error in (row.last_error or "")
    assert row.template_context is None and row.text_body is None


def test_a_mail_given_up_after_its_attempts_drops_its_sealed_content(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    _queue(factory, clock)
    failing = MemoryMailer(fail_with=OSError("relay down"))
    assert drain(factory, failing, clock, max_attempts=1)["failed"] == 1
    [row] = all_rows(factory)
    assert row.status == OutboxStatus.FAILED and row.text_body is row.html_body is None


def test_cert_mail_status_shows_the_subject_not_the_link(
    fresh_database: TestDatabase, factory: SessionFactory, clock: FrozenClock, tmp_path: Path
) -> None:
    _queue(factory, clock)
    drain(factory, MemoryMailer(fail_with=OSError("down")), clock, max_attempts=1)
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path),
        "CERT_SECRET_KEY": SECRET_KEY,
    }
    result = CliRunner().invoke(cli, ["mail", "status"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "failed: 1" in result.output and "rssi@sante.gov.ma" in result.output
    assert TOKEN not in result.output


def test_sealing_is_bound_to_the_key_and_refuses_altered_values() -> None:
    sealer = Sealer(SECRET_KEY)
    sealed = sealer.seal(LINK)
    assert TOKEN not in sealed and sealer.open(sealed) == LINK
    assert sealed != sealer.seal(LINK)  # a fresh IV each time
    with pytest.raises(CannotOpen):
        Sealer("another-secret-key-" + "y" * 30).open(sealed)
    with pytest.raises(CannotOpen):
        sealer.open(sealed[:-4] + "AAAA")
    with pytest.raises(ValueError, match="secret key"):
        Sealer("")
