"""Configuration from CERT_* variables: defaults, parsing, one-line errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError, load_config
from tests.kit.config import env


def test_defaults(tmp_path: Path) -> None:
    config = load_config(environ=env(tmp_path))
    assert config.database_url == f"sqlite:///{tmp_path / 'vigie.db'}"
    assert config.reference_prefix == "MACERT"
    assert config.upload_dir == tmp_path / "uploads"
    assert config.max_upload_mb == 20 and config.password_reset_hours == 24
    assert (config.smtp.host, config.smtp.port, config.smtp.ssl) == ("127.0.0.1", 25, False)
    assert not config.session_cookie_secure


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load_config(environ=env(tmp_path)).secret_key
    assert len(first) >= 48
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert load_config(environ=env(tmp_path)).secret_key == first
    assert load_config(environ=env(tmp_path, CERT_SECRET_KEY="k" * 32)).secret_key == "k" * 32


def test_values_are_parsed(tmp_path: Path) -> None:
    config = load_config(
        environ=env(
            tmp_path,
            CERT_DATABASE_URL="postgresql://vigie:p%40ss@db:5432/vigie",
            CERT_BASE_URL="https://cert.gov.ma/",
            CERT_SMTP_URL="smtp://relay%40gov.ma:s3cret@mail.gov.ma:587?starttls=1&timeout=5",
            CERT_MAIL_FROM="maCERT <alerte@macert.gov.ma>",
            CERT_REFERENCE_PREFIX="DGSSI",
            CERT_MAX_UPLOAD_MB="50",
            CERT_UPLOAD_DIR=str(tmp_path / "files"),
            CERT_EVENTS_INTERVAL="10",
            CERT_EVENTS_MAX_ATTEMPTS="3",
            CERT_PASSWORD_RESET_HOURS="72",
        )
    )
    assert (config.events_interval_seconds, config.events_max_attempts) == (10, 3)
    assert config.password_reset_hours == 72
    assert config.database_url == "postgresql+psycopg://vigie:p%40ss@db:5432/vigie"
    assert config.base_url == "https://cert.gov.ma" and config.session_cookie_secure
    smtp = config.smtp
    assert (smtp.host, smtp.port, smtp.starttls, smtp.ssl) == ("mail.gov.ma", 587, True, False)
    assert (smtp.username, smtp.password, smtp.timeout) == ("relay@gov.ma", "s3cret", 5.0)
    assert config.reference_prefix == "DGSSI" and config.max_upload_mb == 50
    assert config.upload_dir == tmp_path / "files"
    smtps = load_config(environ=env(tmp_path, CERT_SMTP_URL="smtps://mail.gov.ma")).smtp
    assert (smtps.port, smtps.ssl) == (465, True)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CERT_DATABASE_URL", "mysql://x/y", "only sqlite and postgresql"),
        ("CERT_DATABASE_URL", "::nonsense::", "not a database URL"),
        (
            "CERT_DATABASE_URL",
            "postgresql+psycopg2://x/y",
            "use sqlite:// or postgresql+psycopg://",
        ),
        ("CERT_SECRET_KEY", "short", "at least 32 characters"),
        ("CERT_BASE_URL", "cert.gov.ma", "expected an http:// or https:// URL"),
        ("CERT_SMTP_URL", "http://mail", "expected smtp://"),
        ("CERT_SMTP_URL", "smtp://mail?tls=1", "unknown option(s) tls"),
        ("CERT_SMTP_URL", "smtps://mail?starttls=1", "already uses TLS"),
        ("CERT_SMTP_URL", "smtp://mail:99999", "invalid port"),
        ("CERT_MAIL_FROM", "nobody", "expected an e-mail address"),
        ("CERT_REFERENCE_PREFIX", "ma-cert", "upper-case letters or digits"),
        ("CERT_MAX_UPLOAD_MB", "0", "greater than zero"),
        ("CERT_MAX_UPLOAD_MB", "ten", "whole number"),
        ("CERT_OUTBOX_INTERVAL", "-5", "greater than zero"),
        ("CERT_SCHEDULER_POLL_SECONDS", "soon", "expected a number"),
        ("CERT_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("CERT_SLA_POLICY", "   ", "must not be empty"),
        ("CERT_EVENTS_RETENTION_DAYS", "0", "greater than zero"),
        ("CERT_IDEMPOTENCY_TTL_HOURS", "0", "greater than zero"),
        ("CERT_IDEMPOTENCY_TTL_HOURS", "1.5", "whole number"),
        ("CERT_IDEMPOTENCY_PURGE_INTERVAL", "-60", "greater than zero"),
        # bounded: an absurd value fails at start-up, not as an overflow in a request
        ("CERT_IDEMPOTENCY_TTL_HOURS", "99999999999999", "to 8784, got"),
        ("CERT_DUPLICATE_WINDOW_DAYS", "1000000000", "to 3650, got"),
        ("CERT_MAX_UPLOAD_MB", "4096", "to 2048, got"),
        ("CERT_OUTBOX_MAX_ATTEMPTS", "1000", "to 100, got"),
        ("CERT_EVENTS_INTERVAL", "0", "greater than zero"),
        ("CERT_EVENTS_INTERVAL", "86400", "to 3600, got"),
        ("CERT_EVENTS_MAX_ATTEMPTS", "101", "to 100, got"),
        ("CERT_PASSWORD_RESET_HOURS", "0", "greater than zero"),
        ("CERT_PASSWORD_RESET_HOURS", "721", "to 720, got"),
        ("CERT_SCHEDULER_LOCK_KEY", str(2**63), "to 9223372036854775807, got"),
        ("CERT_SCHEDULER_POLL_SECONDS", "1e9", "at most 3600"),
    ],
)
def test_invalid_values_name_the_variable(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(environ=env(tmp_path, **{variable: value}))
    text = str(err.value)
    assert text.startswith(f"{variable}: ") and message in text and "\n" not in text


def test_unknown_override_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_config({"colour": "blue"}, environ=env(tmp_path))


def test_the_kernel_keeps_the_sla_policy_as_text(tmp_path: Path) -> None:
    # the grammar is the incidents slice's (tests/incidents/test_settings.py): the kernel does not
    # parse it, so a policy it would not know is kept as written
    config = load_config(environ=env(tmp_path, CERT_SLA_POLICY="P9=1h/2h"))
    assert config.sla_policy == "P9=1h/2h"
    assert load_config(environ=env(tmp_path)).sla_policy == ""


def test_two_factor_is_required_of_cert_staff_by_default(tmp_path: Path) -> None:
    assert load_config(environ=env(tmp_path)).mfa_roles == {"analyst", "lead", "admin"}
    spelled = env(tmp_path, CERT_MFA_REQUIRED_ROLES=" Admin , reporter,admin")
    assert load_config(environ=spelled).mfa_required_roles == "reporter,admin"
    assert load_config(environ=env(tmp_path, CERT_MFA_REQUIRED_ROLES="none")).mfa_roles == set()
    with pytest.raises(ConfigError, match=r"^CERT_MFA_REQUIRED_ROLES: unknown role 'boss'"):
        load_config(environ=env(tmp_path, CERT_MFA_REQUIRED_ROLES="analyst,boss"))
