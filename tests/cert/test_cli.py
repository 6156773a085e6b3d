"""The ``cert`` command line against a real database (both backends)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from cert.cli import COMMAND_MODULES, cli
from core.identity.models import ApiToken, Organisation, PasswordReset, User
from core.outbox import OutboxMessage
from tests.dbs import TestDatabase

for _name in COMMAND_MODULES:
    importlib.import_module(f"cert.cli.{_name}")


@pytest.fixture
def invoke(fresh_database: TestDatabase, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
    }

    def run(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)

    return run


def _session(db: TestDatabase) -> Session:
    return Session(db.engine)


def test_every_command_has_help() -> None:
    runner = CliRunner()

    def walk(group: object, path: list[str]) -> None:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        for name, command in getattr(group, "commands", {}).items():
            walk(command, [*path, name])

    walk(cli, [])


def test_orgs_users_tokens_round_trip(invoke, fresh_database: TestDatabase) -> None:  # type: ignore[no-untyped-def]
    assert (
        invoke("orgs", "create", "--slug", "macert", "--name", "maCERT", "--kind", "cert").exit_code
        == 0
    )
    result = invoke(
        "orgs",
        "create",
        "--slug",
        "min-sante",
        "--name",
        "Ministère de la Santé",
        "--sector",
        "health",
    )
    assert result.exit_code == 0, result.output
    result = invoke(
        "users",
        "create",
        "--email",
        "Analyste@macert.gov.ma",
        "--name",
        "Salma",
        "--role",
        "analyst",
        "--org",
        "macert",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    result = invoke("tokens", "create", "--email", "analyste@macert.gov.ma", "--label", "siem")
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("vig_") and " " not in token
    with _session(fresh_database) as session:
        stored = session.scalars(select(ApiToken)).one()
        assert token not in stored.token_hash
        user = session.scalars(select(User)).one()
        assert (
            user.role == "analyst"
            and user.password_hash
            and user.password_hash.startswith("$argon2")
        )
    listed = invoke("tokens", "list", "--email", "analyste@macert.gov.ma").output
    assert stored.prefix in listed and token not in listed
    assert invoke("tokens", "revoke", "--prefix", stored.prefix).exit_code == 0
    with _session(fresh_database) as session:
        assert session.scalars(select(ApiToken)).one().revoked_at is not None
    audit = invoke("audit").output
    for action in ("organisation.create", "user.create", "token.create", "token.revoke"):
        assert action in audit
    filtered = invoke("audit", "--action", "token.create").output.splitlines()
    assert len(filtered) == 1 and " token.create " in filtered[0]


def test_tokens_create_takes_a_scope_write_by_default(  # type: ignore[no-untyped-def]
    invoke, fresh_database: TestDatabase
) -> None:
    invoke("orgs", "create", "--slug", "macert", "--name", "maCERT", "--kind", "cert")
    made = invoke(
        "users", "create", "--email", "a@macert.gov.ma", "--name", "A", "--role", "analyst",
        "--org", "macert", "--password-stdin", stdin="a long enough password\n",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    default = invoke("tokens", "create", "--email", "a@macert.gov.ma", "--label", "soar")
    assert default.exit_code == 0 and "scope write" in default.output
    read = invoke("tokens", "create", "--email", "a@macert.gov.ma", "--scope", "read")
    assert read.exit_code == 0 and "scope read" in read.output
    bad = invoke("tokens", "create", "--email", "a@macert.gov.ma", "--scope", "admin")
    assert bad.exit_code == 2 and "--scope" in bad.output
    with _session(fresh_database) as session:
        assert session.scalars(select(ApiToken.scope).order_by(ApiToken.id)).all() == [
            "write",
            "read",
        ]
    listed = invoke("tokens", "list", "--email", "a@macert.gov.ma").output.splitlines()
    assert [" write " in listed[0], " read " in listed[1]] == [True, True]


def test_errors_name_the_problem_and_write_nothing(invoke, fresh_database: TestDatabase) -> None:  # type: ignore[no-untyped-def]
    result = invoke(
        "users",
        "create",
        "--email",
        "x@y.ma",
        "--name",
        "X",
        "--role",
        "reporter",
        "--org",
        "nowhere",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert result.exit_code == 1
    assert "no organisation with slug 'nowhere'" in result.output
    invoke("orgs", "create", "--slug", "min-a", "--name", "A")
    result = invoke(
        "users",
        "create",
        "--email",
        "x@y.ma",
        "--name",
        "X",
        "--role",
        "reporter",
        "--org",
        "min-a",
        "--password-stdin",
        stdin="short\n",
    )
    assert result.exit_code == 1 and "password" in result.output
    result = invoke("orgs", "create", "--slug", "min-a", "--name", "again")
    assert result.exit_code == 1 and "already exists" in result.output
    with _session(fresh_database) as session:
        assert session.scalars(select(User)).all() == []
    result = invoke("tokens", "create", "--email", "ghost@y.ma")
    assert result.exit_code == 1 and "no user" in result.output


def test_config_errors_stop_with_one_line_naming_the_variable(tmp_path: Path) -> None:
    cert = Path(sys.executable).parent / "cert"
    env = {**os.environ, "CERT_INSTANCE_DIR": str(tmp_path), "CERT_MAX_UPLOAD_MB": "lots"}
    result = subprocess.run(
        [cert, "db", "current"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "configuration error: CERT_MAX_UPLOAD_MB: expected a whole number, got 'lots'"
    )
    env = {**os.environ, "CERT_INSTANCE_DIR": str(tmp_path), "CERT_SMTP_URL": "http://mail"}
    result = subprocess.run(
        [cert, "db", "current"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and result.stderr.startswith(
        "configuration error: CERT_SMTP_URL:"
    )
    # a slice's setting: parsed by its manifest's settings hook when the command loads the
    # configuration (the kernel does not know the SLA grammar)
    env = {**os.environ, "CERT_INSTANCE_DIR": str(tmp_path), "CERT_SLA_POLICY": "P1=1h,P2=4h/3d"}
    result = subprocess.run(
        [cert, "db", "current"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "configuration error: CERT_SLA_POLICY: invalid SLA entry 'P1=1h'; "
        "expected e.g. P1=1h/24h, each at most 366d"
    )


def test_demo_is_idempotent_and_prints_working_logins(
    invoke, fresh_database: TestDatabase, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    first = invoke("demo")
    assert first.exit_code == 0, first.output
    second = invoke("demo")
    assert "0 user(s) created" in second.output
    creds = json.loads((tmp_path / "instance" / "demo-credentials.json").read_text())
    assert (tmp_path / "instance" / "demo-credentials.json").stat().st_mode & 0o777 == 0o600
    for role in ("admin", "lead", "analyst", "reporter"):
        assert f"  {role}" in second.output
    from core.auth import services
    from core.clock import SystemClock

    with _session(fresh_database) as session:
        users = session.scalars(select(User)).all()
        assert {u.role for u in users} == {"admin", "lead", "analyst", "reporter"}
        assert len({u.organisation_id for u in users}) >= 4
        for email, password in creds.items():
            assert services.authenticate(session, email, password, ip=None, clock=SystemClock())
            assert password in second.output


def test_deactivate_and_activate(invoke, fresh_database: TestDatabase) -> None:  # type: ignore[no-untyped-def]
    invoke("orgs", "create", "--slug", "min-a", "--name", "A")
    invoke(
        "users",
        "create",
        "--email",
        "x@a.ma",
        "--name",
        "X",
        "--role",
        "reporter",
        "--org",
        "min-a",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert invoke("users", "deactivate", "--email", "x@a.ma").output.strip() == "deactivated x@a.ma"
    with _session(fresh_database) as session:
        assert session.scalars(select(User.is_active)).one() is False
    assert invoke("users", "activate", "--email", "x@a.ma").output.strip() == "activated x@a.ma"
    with _session(fresh_database) as session:
        assert session.scalars(select(User.is_active)).one() is True
    assert "user.deactivate" in invoke("audit").output


def test_users_created_without_a_password_are_mailed_a_link(
    invoke, fresh_database: TestDatabase
) -> None:  # type: ignore[no-untyped-def]
    created = invoke(
        "orgs", "create", "--slug", "min-a", "--name", "A", "--phone", "+212 537 000000"
    )
    assert created.exit_code == 0, created.output
    bad_phone = invoke("orgs", "create", "--slug", "min-b", "--name", "B", "--phone", "call me")
    assert bad_phone.exit_code == 1 and "phone: a telephone number" in bad_phone.output
    base = ["users", "create", "--email", "x@a.ma", "--name", "X", "--role", "reporter"]
    both = invoke(*base, "--org", "min-a", "--send-link", "--password-stdin", stdin="x\n")
    assert both.exit_code == 2 and "at most one of" in both.output
    result = invoke(*base, "--org", "min-a", "--send-link", "--locale", "ar")
    assert result.exit_code == 0, result.output
    again = invoke("users", "send-link", "--email", "X@A.MA")
    assert again.exit_code == 0 and again.output.startswith("queued a link for x@a.ma, valid until")
    assert invoke("users", "send-link", "--email", "nobody@a.ma").exit_code == 1
    with _session(fresh_database) as session:
        user = session.scalars(select(User)).one()
        assert user.password_hash is None
        assert session.scalar(select(Organisation.phone)) == "+212 537 000000"
        mails = session.scalars(select(OutboxMessage)).all()
        assert [(m.to_addr, m.language) for m in mails] == [("x@a.ma", "ar")] * 2
        assert [r.purpose for r in session.scalars(select(PasswordReset))] == ["invite"]
    assert "user.reset_link" in invoke("audit").output
