"""API token scopes: a ``read`` token may only send GET, HEAD and OPTIONS, on the API and on the
TAXII server; anything else is a 403 before the view runs, and nothing is written. Real tokens,
the real application, both databases; the last test walks the URL map, so that a write route
added tomorrow cannot escape."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from core import audit
from core.audit import AuditEntry
from core.auth import mfa
from core.auth import tokens as api_tokens
from core.clock import FrozenClock
from core.db import Base
from core.errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from core.identity.models import ApiToken
from incidents.models import Incident, IncidentEvent, IncidentStatus, IncidentTask
from incidents.sharing.taxii_params import TAXII_MEDIA
from incidents.workspace import tasks
from tests.kit.api import PHISHING, bearer, envelope
from tests.kit.factories import SYSTEM, make_token, report
from tests.kit.world import World

URL = "/api/v1/incidents"
READ_ONLY = "this API token is read-only"


# ---------------------------------------------------------------- kernel
def test_a_token_is_created_with_the_chosen_scope_and_it_is_audited(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    user = world.analyst
    read, _ = api_tokens.create_token(
        db_session, SYSTEM, user, label="dashboard", scope="read", clock=clock
    )
    write, _ = api_tokens.create_token(db_session, SYSTEM, user, label="siem", clock=clock)
    assert (read.scope, write.scope) == ("read", "write")  # the kernel's default stays write
    entries = db_session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == audit.AccountAction.TOKEN_CREATE)
        .order_by(AuditEntry.id)
    ).all()
    assert [e.after["scope"] for e in entries] == ["read", "write"]


@pytest.mark.parametrize("scope", ["admin", "", "READ ", "Write", "read,write"])
def test_an_unknown_scope_is_refused_naming_the_field_and_nothing_is_written(
    db_session: Session, clock: FrozenClock, world: World, scope: str
) -> None:
    user = world.analyst
    before = db_session.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(ValidationFailed) as refused:
        api_tokens.create_token(db_session, SYSTEM, user, label="x", scope=scope, clock=clock)
    assert set(refused.value.fields) == {"scope"}
    assert db_session.scalars(select(ApiToken)).all() == []
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_authenticate_token_tells_the_scope_in_one_query(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    _token, secret = make_token(db_session, clock, world.reporter, scope="read")
    db_session.commit()
    statements: list[str] = []
    connection = db_session.connection()

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(connection, "before_cursor_execute", count)
    try:
        found = api_tokens.authenticate_token(db_session, secret, clock=clock)
        assert found.user.organisation.slug  # user and organisation came with the token
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert found.scope == "read" and found.user is world.reporter
    assert len(statements) == 1, statements


def test_tokens_made_before_scopes_read_and_write(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    """The column's server default: a row inserted without a scope (as migration 0039 found the
    existing tokens) keeps working as before."""
    db_session.execute(
        text(
            "INSERT INTO api_tokens (user_id, label, token_hash, prefix, created_at) "
            "VALUES (:user, 'old', :digest, 'vig_old', :now)"
        ),
        {"user": world.reporter.id, "digest": "0" * 64, "now": clock.now()},
    )
    assert db_session.scalars(select(ApiToken.scope)).one() == "write"


@pytest.mark.parametrize(
    ("scope", "method", "allowed"),
    [
        ("read", "GET", True),
        ("read", "head", True),
        ("read", "OPTIONS", True),
        ("read", "POST", False),
        ("read", "PATCH", False),
        ("read", "PUT", False),
        ("read", "DELETE", False),
        ("write", "DELETE", True),
        ("", "POST", False),  # an unknown value in the column fails closed
        ("admin", "POST", False),
    ],
)
def test_allows(scope: str, method: str, allowed: bool) -> None:
    assert api_tokens.allows(scope, method) is allowed


def test_second_factor_methods_are_the_mfa_methods(world: World) -> None:
    assert {
        mfa.Method.TOTP,
        mfa.Method.RECOVERY,
        mfa.Method.SSO,
    } == api_tokens.SECOND_FACTOR_METHODS
    roles = frozenset({"analyst", "lead", "admin"})
    for method in (None, mfa.Method.PASSWORD, "TOTP", ""):
        with pytest.raises(PermissionDenied):
            api_tokens.require_proven_session(world.analyst, method, roles)
    for method in api_tokens.SECOND_FACTOR_METHODS:
        api_tokens.require_proven_session(world.analyst, method, roles)
    api_tokens.require_proven_session(world.reporter, mfa.Method.PASSWORD, roles)  # not required
    api_tokens.require_proven_session(world.analyst, None, frozenset())


# ---------------------------------------------------------------- the API
def _tokens(world: World, role: str) -> tuple[str, str]:
    """(read, write) token secrets of the cast's person of ``role``."""
    user = world.person(role)
    return (
        make_token(world.session, world.clock, user, scope="read")[1],
        make_token(world.session, world.clock, user, scope="write")[1],
    )


def _count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_read_token_lists_and_reads_incidents_and_sees_its_user(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    read, _write = _tokens(world, "analyst")
    listing = client.get(URL, headers=bearer(read))
    assert listing.status_code == 200, listing.get_data(as_text=True)
    assert incident.reference in {item["reference"] for item in listing.get_json()["items"]}
    one = client.get(f"{URL}/{incident.reference}", headers=bearer(read))
    assert one.status_code == 200 and one.get_json()["reference"] == incident.reference
    assert client.get("/api/v1/me", headers=bearer(read)).get_json()["role"] == "analyst"
    assert client.head(URL, headers=bearer(read)).status_code == 200
    assert client.options(URL, headers=bearer(read)).status_code == 200


def test_a_read_token_cannot_report_comment_or_add_a_task_and_a_write_token_can(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    incident.assignee_id = world.analyst.id
    db_session.flush()
    read, write = _tokens(world, "analyst")
    reporter_read, reporter_write = _tokens(world, "reporter")
    base = f"{URL}/{incident.reference}"
    attempts = [
        (URL, PHISHING, reporter_read, reporter_write, Incident),
        (f"{base}/comments", {"body": "an analyst's note"}, read, write, IncidentEvent),
        (f"{base}/tasks", {"title": "Block the sender"}, read, write, IncidentTask),
    ]
    for path, body, read_secret, write_secret, model in attempts:
        counted, audited = _count(db_session, model), _count(db_session, AuditEntry)
        refused = client.post(path, json=body, headers=bearer(read_secret))
        error = envelope(refused, 403, "forbidden")
        assert error["message"] == READ_ONLY and error["fields"] == {}
        assert "WWW-Authenticate" not in refused.headers  # authenticated: not a 401
        assert (_count(db_session, model), _count(db_session, AuditEntry)) == (counted, audited)
        done = client.post(path, json=body, headers=bearer(write_secret))
        assert done.status_code == 201, done.get_data(as_text=True)
        assert _count(db_session, model) > counted


def test_a_read_token_cannot_change_an_incident_in_any_way(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    task = tasks.add_task(db_session, world.actor(world.lead), incident, "Isolate", clock=clock)
    db_session.flush()
    read, write = _tokens(world, "lead")
    base = f"{URL}/{incident.reference}"
    changes = [
        ("status", {"status": "triaged"}),
        ("assign", {"assignee": world.analyst.email}),
        ("priority", {"priority": "P1", "reason": "ransomware"}),
        (f"tasks/{task.id}", {"done": True}),
        ("replies", {"body": "hello"}),
    ]
    for where, body in changes:
        refused = client.post(f"{base}/{where}", json=body, headers=bearer(read))
        assert envelope(refused, 403, "forbidden")["message"] == READ_ONLY, where
    priority = incident.priority
    db_session.refresh(incident)
    db_session.refresh(task)
    assert (incident.status, incident.assignee_id) == (IncidentStatus.NEW, None)
    assert (incident.priority, task.done_at) == (priority, None)
    done = client.post(f"{base}/status", json={"status": "triaged"}, headers=bearer(write))
    assert done.status_code == 200, done.get_data(as_text=True)


def test_a_refused_write_is_checked_before_the_body_is_read(
    client: FlaskClient, world: World
) -> None:
    """Malformed JSON, a wrong Content-Type or a huge body: still the read-only 403 (nothing of
    the request is parsed for a token that may not write)."""
    read, _write = _tokens(world, "reporter")
    for data, kind in ((b"{not json", "application/json"), (b"x", "text/plain")):
        refused = client.post(URL, data=data, headers=bearer(read, **{"Content-Type": kind}))
        assert envelope(refused, 403, "forbidden")["message"] == READ_ONLY


def test_a_revoked_or_unknown_read_token_is_still_401(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    token, secret = make_token(db_session, clock, world.reporter, scope="read")
    api_tokens.revoke_token(db_session, SYSTEM, token, clock=clock)
    db_session.flush()
    for presented in (secret, secret + "x"):
        for method in ("get", "post"):
            answer = getattr(client, method)(URL, json=PHISHING, headers=bearer(presented))
            envelope(answer, 401, "unauthorized")
            assert "invalid_token" in answer.headers["WWW-Authenticate"]
    with pytest.raises(AuthenticationFailed):
        api_tokens.authenticate_token(db_session, secret, clock=clock)


def test_a_read_tokens_refused_write_still_stamps_its_last_use(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    token, secret = make_token(db_session, clock, world.reporter, scope="read")
    clock.advance(minutes=5)
    envelope(client.post(URL, json=PHISHING, headers=bearer(secret)), 403, "forbidden")
    db_session.refresh(token)
    assert token.last_used_at == clock.now()  # who tried, and when, stays visible


# ---------------------------------------------------------------- TAXII
def test_taxii_reads_with_a_read_token_and_refuses_its_writes(
    client: FlaskClient, world: World
) -> None:
    read, write = _tokens(world, "reporter")
    accept = {"Accept": TAXII_MEDIA}
    listing = client.get("/taxii2/vigie/collections/", headers=bearer(read, **accept))
    assert listing.status_code == 200, listing.get_data(as_text=True)
    ident = listing.get_json()["collections"][0]["id"]
    objects = f"/taxii2/vigie/collections/{ident}/objects/"
    assert client.get(objects, headers=bearer(read, **accept)).status_code == 200
    for method, path in (("post", objects), ("delete", f"{objects}indicator--x/")):
        refused = getattr(client, method)(path, json={}, headers=bearer(read, **accept))
        assert refused.status_code == 403 and refused.mimetype == "application/taxii+json"
        assert refused.get_json()["description"] == READ_ONLY
    # the collections are read-only for every token: a write token is refused for that reason
    other = client.post(objects, json={"objects": []}, headers=bearer(write, **accept))
    assert other.status_code == 403 and other.get_json()["description"] != READ_ONLY


# ---------------------------------------------------------------- every write route
_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def _write_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) of every token-authenticated rule that accepts a method that writes."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/taxii2/")):
            continue
        for method in sorted((rule.methods or set()) - api_tokens.SAFE_METHODS):
            found.append((method, rule.rule))
    return found


def _table_counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def _path(rule: str, values: dict[str, str]) -> str:
    """``rule`` with real values: the incident's reference, the task's id for any integer, and
    ``x`` for any other argument (a centre, a feed, a TAXII collection or object)."""
    return _ARGUMENT.sub(
        lambda m: values.get(m["name"], values["int"] if m["converter"] == "int" else "x"), rule
    )


def test_no_write_route_escapes_a_read_token(
    app: Flask, client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    """Every rule of /api and /taxii2 with a method other than GET, HEAD and OPTIONS, generated
    from the URL map: a read token of an administrator gets 403 "read-only" and no table changes
    (not even its last use, stamped just before); a write token is not refused for its scope."""
    incident = report(db_session, clock, world.reporter)
    task = tasks.add_task(db_session, world.actor(world.lead), incident, "Isolate", clock=clock)
    db_session.flush()
    read, write = _tokens(world, "admin")
    client.get("/api/v1/me", headers=bearer(read))  # the token's first use is stamped now
    values = {"reference": incident.reference, "int": str(task.id)}
    routes = _write_routes(app)
    assert len(routes) >= 25
    assert ("DELETE", "/api/v1/incidents/<reference>/shares/<centre>") in routes
    assert ("POST", "/taxii2/vigie/collections/<ident>/objects/") in routes
    before = _table_counts(db_session)
    stamped = db_session.scalar(select(ApiToken.last_used_at).where(ApiToken.scope == "read"))
    for method, rule in routes:
        accept = TAXII_MEDIA if rule.startswith("/taxii2/") else "application/json"
        answer = client.open(
            _path(rule, values), method=method, json={}, headers=bearer(read, Accept=accept)
        )
        assert answer.status_code == 403, (method, rule, answer.get_data(as_text=True))
        if rule.startswith("/api/"):
            assert envelope(answer, 403, "forbidden")["message"] == READ_ONLY, (method, rule)
        else:
            assert answer.get_json()["description"] == READ_ONLY, (method, rule)
    assert _table_counts(db_session) == before
    db_session.expire_all()
    assert db_session.get(Incident, incident.id).status == IncidentStatus.NEW  # type: ignore[union-attr]
    assert stamped is not None
    assert (
        db_session.scalar(select(ApiToken.last_used_at).where(ApiToken.scope == "read")) == stamped
    )
    for method, rule in routes:  # the same requests with the write token
        accept = TAXII_MEDIA if rule.startswith("/taxii2/") else "application/json"
        answer = client.open(
            _path(rule, values), method=method, json={}, headers=bearer(write, Accept=accept)
        )
        assert READ_ONLY not in answer.get_data(as_text=True), (method, rule)


def test_the_openapi_document_tells_the_scopes_and_the_403_of_writes(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    scheme = document["components"]["securitySchemes"]["bearerAuth"]["description"]
    assert "read" in scheme and READ_ONLY in scheme
    assert READ_ONLY in document["info"]["description"]
    assert "read-only" in document["components"]["responses"]["Error403"]["description"]
    writes = 0
    for operations in document["paths"].values():
        for method, op in operations.items():
            public = op.get("security") == []
            if method != "get" and not public:
                writes += 1
                assert "403" in op["responses"], op["operationId"]
    assert writes >= 25
