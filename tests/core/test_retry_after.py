"""``Retry-After`` only on refusals (429 with the seconds until the rate-limit window resets, 503
with the database back-off), the configurable API write limit (``CERT_API_WRITE_RATE_LIMIT``) and
the settings of the database timeouts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.clock import FrozenClock
from core.config import ConfigError, load_config
from tests.kit.api import PHISHING, api_user, submit
from tests.kit.config import env
from tests.kit.factories import PASSWORD, make_org, make_user
from tests.kit.web import csrf_token, login, logout, text


def api_client(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    **overrides: Any,
) -> FlaskClient:
    app = create_app({**settings, **overrides}, session_factory=session_factory, clock=clock)
    return app.test_client()


def test_only_the_429_of_the_api_write_limit_carries_retry_after(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    db_session: Session,
    clock: FrozenClock,
) -> None:
    client = api_client(
        settings, session_factory, clock, api_write_rate_limit="2 per hour"
    )  # the setting, not the default 60 per minute
    secret = api_user(db_session, clock, make_org(db_session, clock))[1]
    started = time.time()
    for n in range(2):
        created = submit(client, secret, {**PHISHING, "title": f"Phishing {n}"})
        assert created.status_code == 201
        assert "Retry-After" not in created.headers
        assert created.headers["X-RateLimit-Limit"] == "2"  # the budget stays visible
        assert created.headers["X-RateLimit-Remaining"] == str(1 - n)
    refused = submit(client, secret)
    assert refused.status_code == 429
    # the window opened with the first POST and resets an hour later: whole seconds, rounded up
    waited = time.time() - started
    assert 3600 - waited - 1 <= int(refused.headers["Retry-After"]) <= 3600


def test_the_api_write_limit_is_a_setting(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    db_session: Session,
    clock: FrozenClock,
) -> None:
    client = api_client(settings, session_factory, clock, api_write_rate_limit="70 per minute")
    secret = api_user(db_session, clock, make_org(db_session, clock))[1]
    # beyond the default 60: invalid bodies count too (the limit is checked before the body)
    assert [submit(client, secret, {}).status_code for _ in range(70)] == [422] * 70
    assert submit(client, secret, {}).status_code == 429


def test_a_login_redirect_has_no_retry_after_and_its_429_has_the_window(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    db_session: Session,
    clock: FrozenClock,
) -> None:
    client = api_client(settings, session_factory, clock, login_rate_limit="2 per minute")
    user = make_user(db_session, clock)
    started = time.time()
    signed_in = login(client, user.email, PASSWORD)
    assert signed_in.status_code == 302 and "Retry-After" not in signed_in.headers
    logout(client)
    token = csrf_token(text(client.get("/login")))
    attempt = {"csrf_token": token, "email": user.email, "password": "wrong password"}
    assert client.post("/login", data=attempt).status_code == 200
    blocked = client.post("/login", data=attempt)
    assert blocked.status_code == 429
    assert 60 - (time.time() - started) - 1 <= int(blocked.headers["Retry-After"]) <= 60


def test_the_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    defaults = load_config(environ=env(tmp_path))
    assert defaults.api_write_rate_limit == "60 per minute"
    assert (defaults.db_lock_timeout_seconds, defaults.db_statement_timeout_seconds) == (5, 30)
    config = load_config(
        environ=env(
            tmp_path,
            CERT_API_WRITE_RATE_LIMIT="600 per minute",
            CERT_DB_LOCK_TIMEOUT_SECONDS="2.5",
            CERT_DB_STATEMENT_TIMEOUT_SECONDS="120",
        )
    )
    assert config.api_write_rate_limit == "600 per minute"
    assert (config.db_lock_timeout_seconds, config.db_statement_timeout_seconds) == (2.5, 120)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CERT_API_WRITE_RATE_LIMIT", "lots", "expected e.g. '60 per minute'"),
        ("CERT_API_WRITE_RATE_LIMIT", "0 per minute", "would refuse every request"),
        ("CERT_DB_LOCK_TIMEOUT_SECONDS", "0", "greater than zero"),  # 0 is "wait forever"
        ("CERT_DB_LOCK_TIMEOUT_SECONDS", "never", "expected a number"),
        ("CERT_DB_LOCK_TIMEOUT_SECONDS", "900", "from 0.1 to 600, got 900"),
        ("CERT_DB_STATEMENT_TIMEOUT_SECONDS", "0.5", "from 1 to 3600, got 0.5"),
        ("CERT_DB_STATEMENT_TIMEOUT_SECONDS", "1e9", "at most 3600"),
    ],
)
def test_invalid_values_name_the_variable(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(environ=env(tmp_path, **{variable: value}))
    said = str(err.value)
    assert said.startswith(f"{variable}: ") and message in said and "\n" not in said
