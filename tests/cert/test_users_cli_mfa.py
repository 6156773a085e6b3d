"""``cert users mfa-reset --email E``: the second factor forgotten, the sessions ended, the user
e-mailed, audited as the CLI; an unknown address stops with a clear error and nothing written;
an account without a second factor is left as it is — on both DBs."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cert.cli import COMMAND_MODULES, cli
from core.audit import AuditEntry
from core.auth import mfa, sessions
from core.clock import SystemClock
from core.identity.authz import Actor
from core.identity.models import MfaRecoveryCode, User, UserSession
from core.outbox import OutboxMessage
from tests.dbs import TestDatabase

for _name in COMMAND_MODULES:
    importlib.import_module(f"cert.cli.{_name}")

SECRET_KEY = "s" * 40


@pytest.fixture
def invoke(fresh_database: TestDatabase, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": SECRET_KEY,
    }

    def run(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)

    return run


def _analyst(invoke, db: TestDatabase, *, enrolled: bool) -> None:  # type: ignore[no-untyped-def]
    assert (
        invoke("orgs", "create", "--slug", "macert", "--name", "maCERT", "--kind", "cert").exit_code
        == 0
    )
    created = invoke(
        "users", "create", "--email", "amal@cert.ma", "--name", "Amal", "--role", "analyst",
        "--org", "macert", "--locale", "en", "--password-stdin", stdin="a long enough password\n",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    clock, seal = SystemClock(), mfa.sealer(SECRET_KEY)
    with Session(db.engine) as session:
        user = session.scalars(select(User)).one()
        if enrolled:
            secret = mfa.start_enrolment(session, user, seal=seal)
            code = mfa.current_code(secret, clock.now())
            mfa.confirm_enrolment(session, Actor.for_user(user), user, code, seal=seal, clock=clock)
        for _ in range(2):
            sessions.start_session(session, user, ip=None, user_agent=None, clock=clock)
        session.commit()


def test_mfa_reset_forgets_the_factor_ends_sessions_and_mails(
    invoke, fresh_database: TestDatabase
) -> None:  # type: ignore[no-untyped-def]
    _analyst(invoke, fresh_database, enrolled=True)
    result = invoke("users", "mfa-reset", "--email", "AMAL@cert.ma")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "reset the two-factor sign-in of amal@cert.ma; ended 2 session(s); "
        "queued an e-mail to amal@cert.ma"
    )
    with Session(fresh_database.engine) as session:
        user = session.scalars(select(User)).one()
        assert user.totp_secret is None and user.mfa_enrolled_at is None
        assert session.scalar(select(func.count()).select_from(MfaRecoveryCode)) == 0
        assert set(session.scalars(select(UserSession.ended_reason))) == {"mfa_reset"}
        message = session.scalars(select(OutboxMessage)).one()
        assert (message.to_addr, message.language) == ("amal@cert.ma", "en")
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "mfa.reset")).one()
        assert entry.actor_id is None and entry.actor_label.startswith("cli:")
    again = invoke("users", "mfa-reset", "--email", "amal@cert.ma")
    assert again.exit_code == 0
    assert again.output.strip() == "amal@cert.ma has no two-factor sign-in: nothing to reset"


def test_mfa_reset_of_an_account_without_a_second_factor_changes_nothing(
    invoke, fresh_database: TestDatabase
) -> None:  # type: ignore[no-untyped-def]
    _analyst(invoke, fresh_database, enrolled=False)
    result = invoke("users", "mfa-reset", "--email", "amal@cert.ma")
    assert result.exit_code == 0 and "nothing to reset" in result.output
    with Session(fresh_database.engine) as session:
        assert session.scalars(select(UserSession.ended_at)).all() == [None, None]
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_mfa_reset_of_an_unknown_address_fails_naming_it(
    invoke, fresh_database: TestDatabase
) -> None:  # type: ignore[no-untyped-def]
    _analyst(invoke, fresh_database, enrolled=True)
    result = invoke("users", "mfa-reset", "--email", "nobody@cert.ma")
    assert result.exit_code == 1
    assert "nobody@cert.ma" in result.output and "unknown user" in result.output
    assert invoke("users", "mfa-reset").exit_code == 2  # --email is required
    with Session(fresh_database.engine) as session:
        assert session.scalar(select(func.count()).select_from(MfaRecoveryCode)) == 10
        assert session.scalars(select(UserSession.ended_at)).all() == [None, None]
