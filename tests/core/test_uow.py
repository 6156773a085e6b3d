"""The unit of work: one object per request, command or job owns commit, rollback and the SQLite
write lock — and it is the only place in the product that commits or rolls back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.errors import AuthenticationFailed, ValidationFailed
from core.identity.authz import Actor
from core.identity.models import Organisation, OrganisationKind
from core.uow import UnitOfWork, transaction, unit_of_work

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("cert", "core", "incidents", "feeds", "playbooks", "bulletins")
OWNER = ROOT / "core" / "uow.py"


def _org(slug: str) -> Organisation:
    now = FrozenClock().now()
    return Organisation(
        slug=slug, name=slug, kind=OrganisationKind.MINISTRY, created_at=now, updated_at=now
    )


def _count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Organisation)) or 0


def test_a_block_that_returns_is_committed(factory: sessionmaker[Session]) -> None:
    before = _count(factory)
    with unit_of_work(factory, clock=FrozenClock(), actor=Actor.system("test")) as uow:
        uow.session.add(_org("committed"))
    assert _count(factory) == before + 1


def test_a_block_that_raises_leaves_nothing(factory: sessionmaker[Session]) -> None:
    before = _count(factory)
    with (
        pytest.raises(ValidationFailed),
        unit_of_work(factory, clock=FrozenClock(), write=True) as uow,
    ):
        uow.session.add(_org("rolled-back"))
        uow.session.flush()  # written, then undone
        raise ValidationFailed("refused", fields={"name": "bad"})
    assert _count(factory) == before


def test_transaction_inside_a_long_lived_unit_commits_each_block_alone(
    factory: sessionmaker[Session],
) -> None:
    before = _count(factory)
    uow = UnitOfWork(factory(), FrozenClock())
    try:
        with uow.transaction():
            uow.session.add(_org("first"))
        with pytest.raises(RuntimeError), uow.transaction():
            uow.session.add(_org("second"))
            raise RuntimeError("boom")
    finally:
        uow.close()
    assert _count(factory) == before + 1


@pytest.mark.parametrize("kind", ["unit", "transaction"])
def test_a_commit_that_fails_is_rolled_back_and_the_session_works_again(
    factory: sessionmaker[Session], kind: str
) -> None:
    """The same block both ways: a duplicate slug, refused only when the commit flushes it."""
    before = _count(factory)
    with transaction(factory) as session:
        session.add(_org("taken"))
    uow = UnitOfWork(factory(), FrozenClock())
    try:
        block = uow.transaction() if kind == "unit" else transaction(factory)
        with pytest.raises(IntegrityError), block as session:
            session.add(_org("taken"))  # the INSERT happens in commit()
        with uow.transaction():  # a long-lived unit goes on after the failed commit
            uow.session.add(_org("after"))
    finally:
        uow.close()
    assert _count(factory) == before + 2


def test_an_anonymous_unit_has_no_acting_user(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        uow = UnitOfWork(session, FrozenClock())
        with pytest.raises(AuthenticationFailed):
            _ = uow.acting
        assert UnitOfWork(session, FrozenClock(), actor=Actor.system("x")).acting.label == "x"


def test_settings_of_checks_the_kind(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        uow = UnitOfWork(session, FrozenClock(), settings={"incidents": 42})
        assert uow.settings_of("incidents", int) == 42
        with pytest.raises(LookupError):
            uow.settings_of("incidents", str)
        with pytest.raises(LookupError):
            uow.settings_of("feeds", int)


def _transaction_calls(path: Path, root: Path = ROOT) -> list[str]:
    """``x.commit()``, ``x.rollback()`` and ``begin_write(...)`` calls in one module, except
    through a unit of work (``uow.commit()``, ``unit_of_work().rollback()``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        fn = node.func
        if isinstance(fn, ast.Attribute) and fn.attr in {"commit", "rollback"}:
            owner = fn.value
            through_uow = (isinstance(owner, ast.Name) and owner.id == "uow") or (
                isinstance(owner, ast.Call)
                and isinstance(owner.func, ast.Name)
                and owner.func.id == "unit_of_work"
            )
            if not through_uow:
                found.append(f"{path.relative_to(root)}:{node.lineno} .{fn.attr}()")
        if isinstance(fn, ast.Name) and fn.id == "begin_write":
            found.append(f"{path.relative_to(root)}:{node.lineno} begin_write()")
    return found


def test_only_the_unit_of_work_commits_rolls_back_or_takes_the_write_lock() -> None:
    modules = [
        path
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != OWNER and "migrations" not in path.parts
    ]
    assert len(modules) > 120  # the walk sees the product
    offenders = [call for path in modules for call in _transaction_calls(path)]
    assert offenders == []


def test_the_walk_would_see_a_stray_commit(tmp_path: Path) -> None:
    stray = tmp_path / "stray.py"
    stray.write_text(
        "def f(session, uow):\n    session.commit()\n    begin_write(session)\n    uow.commit()\n"
    )
    assert _transaction_calls(stray, tmp_path) == [
        "stray.py:2 .commit()",
        "stray.py:3 begin_write()",
    ]
