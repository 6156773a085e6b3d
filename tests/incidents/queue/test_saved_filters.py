"""Saved queue filters: per user, unique names, audited, applied through the queue page."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.identity.authz import Actor
from core.identity.models import Role, User
from incidents.queue.query import QueueFilter
from incidents.queue.saved_filters import delete_filter, filter_of, list_filters, save_filter
from tests.kit.factories import PASSWORD, actor_of, make_user
from tests.kit.web import csrf_token, login, text
from tests.kit.world import World

OPEN_P1 = QueueFilter.from_args({"status": "open", "priority": "P1", "sort": "sla"})


def test_saved_filters_are_per_user_and_audited(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    amal, omar = world.actor(world.analyst), world.actor(world.analyst2)  # two analysts
    saved = save_filter(db_session, amal, "  Urgences   ouvertes ", OPEN_P1, clock=clock)
    save_filter(db_session, omar, "Urgences ouvertes", OPEN_P1, clock=clock)  # same name: theirs
    assert saved.name == "Urgences ouvertes"
    assert [s.name for s in list_filters(db_session, amal)] == ["Urgences ouvertes"]
    assert filter_of(saved) == OPEN_P1
    with pytest.raises(Conflict):
        save_filter(db_session, amal, "Urgences ouvertes", QueueFilter(), clock=clock)
    with pytest.raises(NotFound):
        delete_filter(db_session, omar, saved.id, clock=clock)
    delete_filter(db_session, amal, saved.id, clock=clock)
    assert list_filters(db_session, amal) == []
    assert len(list_filters(db_session, omar)) == 1
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "saved_filter")
    ).all()
    assert sorted(actions) == ["saved_filter.create", "saved_filter.create", "saved_filter.delete"]


def test_cursor_is_not_saved_and_names_are_checked(
    db_session: Session, clock: FrozenClock, analyst: User
) -> None:
    amal = actor_of(analyst)
    with_cursor = QueueFilter.from_args({"status": "new", "after": "abc"})
    saved = save_filter(db_session, amal, "Nouveaux", with_cursor, clock=clock)
    assert saved.args == {"status": ["new"]}
    with pytest.raises(ValidationFailed) as caught:
        save_filter(db_session, amal, "   ", QueueFilter(), clock=clock)
    assert set(caught.value.fields) == {"name"}
    with pytest.raises(PermissionDenied):
        save_filter(db_session, Actor.system("cli"), "x", QueueFilter(), clock=clock)


def test_save_apply_and_delete_from_the_page(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, role=Role.ANALYST)
    other = make_user(db_session, clock, role=Role.ANALYST)
    theirs = save_filter(db_session, Actor.for_user(other), "Le sien", QueueFilter(), clock=clock)
    login(client, user.email, PASSWORD)
    page = text(client.get("/queue?priority=P1&status=open"))
    assert "Le sien" not in page
    args = urlencode({"status": "open", "priority": "P1"})
    data = {"csrf_token": csrf_token(page), "name": "Mes P1", "args": args}
    response = client.post("/queue/filters", data=data)
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Mes P1" in page and 'href="/queue?status=open&amp;priority=P1"' in page
    mine = list_filters(db_session, Actor.for_user(user))
    assert [s.args for s in mine] == [{"status": ["open"], "priority": ["P1"]}]
    token = csrf_token(page)
    refused = client.post(f"/queue/filters/{theirs.id}/delete", data={"csrf_token": token})
    assert refused.status_code == 404
    deleted = client.post(f"/queue/filters/{mine[0].id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    assert list_filters(db_session, Actor.for_user(user)) == []
