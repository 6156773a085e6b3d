"""Issuing API tokens on the account page: the scope chosen (read only by default), told once on
the token's page and listed in every tokens table; and tokens issued only to a session proven
with a second factor when the user's role requires one (``CERT_MFA_REQUIRED_ROLES``)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, session
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.audit import AuditEntry
from core.auth import mfa
from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import ApiToken, User
from core.web import context, get_session, unit_of_work
from core.web.auth import log_in
from tests.kit.api import PHISHING, bearer, envelope
from tests.kit.factories import make_token
from tests.kit.web import csrf_token, text
from tests.kit.world import World

READ_LABEL = "Read only: it can list and read, never change anything."
WRITE_LABEL = "Read and write: it can do whatever you can."


def _create(client: FlaskClient, **fields: str) -> Any:
    token = csrf_token(text(client.get("/account?lang=en")))
    return client.post("/account/tokens?lang=en", data={"csrf_token": token, **fields})


def _secret(page: str) -> str:
    found = re.search(r'value="(vig_[^"]+)"', page)
    assert found, "the token is not on the page"
    return found.group(1)


def test_the_form_offers_read_only_first_and_checked(client: FlaskClient, world: World) -> None:
    world.sign_in(client, world.analyst)
    page = text(client.get("/account?lang=en"))
    radios = re.findall(r'<input[^>]*name="scope"[^>]*>', page)
    assert [re.search(r'value="(\w+)"', r).group(1) for r in radios] == ["read", "write"]  # type: ignore[union-attr]
    assert "checked" in radios[0] and "checked" not in radios[1]
    assert "Read only" in page and "Read and write" in page


@pytest.mark.parametrize(("scope", "told"), [("read", READ_LABEL), ("write", WRITE_LABEL)])
def test_the_chosen_scope_is_told_once_and_enforced(
    client: FlaskClient, db_session: Session, world: World, scope: str, told: str
) -> None:
    world.sign_in(client, world.reporter)
    created = _create(client, label="misp sync", scope=scope)
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    page = text(created)
    assert page.count(told) == 1 and (WRITE_LABEL if scope == "read" else READ_LABEL) not in page
    secret = _secret(page)
    row = db_session.scalars(select(ApiToken)).one()
    assert row.scope == scope
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "token.create")).one()
    assert entry.after["scope"] == scope
    submitted = client.post("/api/v1/incidents", json=PHISHING, headers=bearer(secret))
    if scope == "read":
        assert envelope(submitted, 403, "forbidden")["message"] == "this API token is read-only"
    else:
        assert submitted.status_code == 201, text(submitted)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_a_form_without_a_scope_makes_a_read_only_token(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    world.sign_in(client, world.reporter)
    assert _create(client, label="old script").status_code == 200
    assert db_session.scalars(select(ApiToken.scope)).one() == "read"


@pytest.mark.parametrize("scope", ["admin", "", "WRITE"])
def test_an_unknown_scope_is_refused_on_the_form_and_nothing_is_made(
    client: FlaskClient, db_session: Session, world: World, scope: str
) -> None:
    world.sign_in(client, world.reporter)
    refused = _create(client, label="x", scope=scope)
    assert refused.status_code == 422
    page = text(refused)
    assert "is-invalid" in page and "vig_" not in page
    assert db_session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_every_tokens_table_shows_the_scope(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    make_token(db_session, clock, world.admin, label="reader-of-admin", scope="read")
    make_token(db_session, clock, world.analyst, label="writer-of-analyst", scope="write")
    world.sign_in(client, world.admin)
    pages = {
        "/account": ["Read only"],
        "/admin/tokens": ["Read and write", "Read only"],  # newest first
        f"/admin/users/{world.analyst.id}": ["Read and write"],
    }
    for path, shown in pages.items():
        page = text(client.get(path, query_string={"lang": "en"}))
        assert '<th scope="col">Access</th>' in page, path
        cells = re.findall(r'<span class="badge text-bg-(?:info|warning)">([^<]+)</span>', page)
        assert cells == shown, (path, cells)


# ---------------------------------------------------------------- second factor
@pytest.fixture
def mfa_app(
    settings: dict[str, Any], session_factory: sessionmaker[Session], clock: FrozenClock
) -> Flask:
    """The product's default: analysts, leads and administrators sign in with a second factor."""
    return create_app(
        {**settings, "mfa_required_roles": "analyst,lead,admin"},
        session_factory=session_factory,
        clock=clock,
    )


def _enrol(account: User) -> None:
    """Two-factor sign-in set up for ``account``, through the kernel (the enrolment pages are
    tested in tests/cert/test_mfa_signin.py)."""
    ctx = context()
    seal = mfa.sealer(ctx.settings.secret_key)
    secret = mfa.start_enrolment(get_session(), account, seal=seal)
    code = mfa.current_code(secret, ctx.clock.now())
    mfa.confirm_enrolment(
        get_session(), Actor.for_user(account), account, code, seal=seal, clock=ctx.clock
    )


def _signed_in(app: Flask, user: User, method: str | None) -> FlaskClient:
    """A client whose web session's row says how its sign-in was proven (``log_in``), as the
    sign-in pages leave it."""
    client = app.test_client()
    with app.test_request_context("/login", environ_base=client.environ_base):
        account = get_session().get(User, user.id)
        assert account is not None
        _enrol(account)  # else the session opens only the enrolment page
        log_in(account, method=method)
        unit_of_work().commit()
        cookie = dict(session)
    with client.session_transaction() as kept:
        kept.update(cookie)
    return client


@pytest.mark.parametrize("method", ["password", None])
def test_a_session_without_the_second_factor_its_role_requires_issues_no_token(
    mfa_app: Flask, db_session: Session, world: World, method: str | None
) -> None:
    db_session.flush()
    client = _signed_in(mfa_app, world.analyst, method)
    account = client.get("/account?lang=en")
    assert account.status_code == 200
    page = text(account)
    assert 'name="scope"' not in page and "sign in again with the code" in page
    token = csrf_token(page)
    audited = db_session.scalar(select(func.count()).select_from(AuditEntry))
    refused = client.post(
        "/account/tokens?lang=en", data={"csrf_token": token, "label": "x", "scope": "write"}
    )
    assert refused.status_code == 403 and refused.mimetype == "text/html"
    assert "sign in again with the code of your authentication application" in text(refused)
    assert "vig_" not in text(refused)
    assert db_session.scalar(select(func.count()).select_from(ApiToken)) == 0
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == audited


@pytest.mark.parametrize("method", ["totp", "recovery", "sso"])
def test_a_session_proven_with_a_second_factor_issues_tokens(
    mfa_app: Flask, db_session: Session, world: World, method: str
) -> None:
    db_session.flush()
    client = _signed_in(mfa_app, world.lead, method)
    created = _create(client, label="soar", scope="write")
    assert created.status_code == 200, text(created)
    assert _secret(text(created)).startswith("vig_")
    assert db_session.scalars(select(ApiToken.scope)).one() == "write"


def test_a_role_that_needs_no_second_factor_issues_tokens_after_a_password(
    mfa_app: Flask, db_session: Session, world: World
) -> None:
    db_session.flush()
    client = _signed_in(mfa_app, world.reporter, "password")
    assert 'name="scope"' in text(client.get("/account?lang=en"))
    assert _create(client, label="ticketing").status_code == 200
    assert db_session.scalars(select(ApiToken.scope)).one() == "read"
