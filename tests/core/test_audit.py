"""Audit actions are enumerations (the kernel's and each slice's) and ``audit.record`` is the one
way to write a row: a Core INSERT in the caller's transaction, a member of an enumeration only."""

from __future__ import annotations

import enum
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import incidents.actions  # noqa: F401  (defines the slice's actions)
from core import audit
from core.audit import AccountAction, AuditAction, AuditEntry
from core.clock import FrozenClock
from core.identity.models import Role
from tests.kit.factories import SYSTEM

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("cert", "core", "incidents", "feeds", "playbooks", "bulletins")


def _product_actions() -> list[AuditAction]:
    return [
        action
        for action in audit.known_actions().values()
        if type(action).__module__.split(".")[0] in PRODUCT
    ]


def test_the_row_holds_the_value_and_no_object_is_left_pending(
    db_session: Session, clock: FrozenClock
) -> None:
    audit.record(db_session, SYSTEM, AccountAction.USER_LOCALE, "user", 7, clock=clock,
                 before={"locale": "fr"}, after={"locale": "ar"})  # fmt: skip
    assert not db_session.new  # a Core INSERT, no ORM object to flush
    entry = db_session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.object_type, entry.object_id) == ("user.locale", "user", "7")
    assert type(entry.action) is str and entry.actor_label == SYSTEM.label
    assert (entry.before, entry.after) == ({"locale": "fr"}, {"locale": "ar"})
    [found] = audit.list_entries(db_session, action="user.locale")
    assert found.id == entry.id and audit.list_entries(db_session, action="user.create") == []


@pytest.mark.parametrize("action", ["user.create", "user.creat", Role.ADMIN])
def test_anything_but_an_audit_action_is_refused(
    db_session: Session, clock: FrozenClock, action: str
) -> None:
    with pytest.raises(TypeError, match="AuditAction"):
        audit.record(db_session, SYSTEM, action, "user", 1, clock=clock)  # type: ignore[arg-type]
    assert db_session.scalars(select(AuditEntry)).all() == []


def test_an_unknown_action_does_not_exist() -> None:
    with pytest.raises(ValueError):
        AccountAction("user.creat")
    with pytest.raises(AttributeError):
        AccountAction.USER_CRATE  # type: ignore[attr-defined]  # noqa: B018


def test_mypy_refuses_a_string_or_a_misspelt_action(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        textwrap.dedent(
            """
            from sqlalchemy.orm import Session
            from core import audit
            from core.audit import AccountAction
            from core.identity.authz import Actor
            from core.clock import SystemClock

            def f(session: Session) -> None:
                actor, clock = Actor.system("probe"), SystemClock()
                audit.record(session, actor, "user.create", "user", 1, clock=clock)
                audit.record(session, actor, AccountAction.USER_CRATE, "user", 1, clock=clock)
                audit.record(session, actor, AccountAction.USER_CREATE, "user", 1, clock=clock)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--cache-dir", str(tmp_path / "cache"), str(probe)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2, result.stdout
    assert 'incompatible type "str"' in errors[0] and "AuditAction" in errors[0]
    assert "USER_CRATE" in errors[1]


def test_every_action_is_spelt_once_and_fits_the_column() -> None:
    known = audit.known_actions()  # raises when two enumerations spell one action alike
    assert {a.value for a in AccountAction} <= known.keys()
    assert "incident.submit" in known and "saved_filter.create" in known
    for value in known:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", value) and len(value) <= 64, value


def test_audit_action_has_no_member_of_its_own() -> None:
    assert list(AuditAction) == []
    assert all(isinstance(a, enum.StrEnum) for a in _product_actions())


def test_every_action_is_recorded_somewhere() -> None:
    """An action no code records is dead vocabulary: delete it (never rename a used one)."""
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for package in PRODUCT
        if (ROOT / package).is_dir()
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )
    unused = [
        f"{type(action).__name__}.{action.name}"
        for action in _product_actions()
        if f"{type(action).__name__}.{action.name}" not in sources
    ]
    assert unused == []
