"""The unit of work (kernel, Flask-free): one per request, command or job.

It carries what every use case is called with — the session, the acting user, the clock, the
configuration and the slices' settings — and owns the transaction: commit, rollback and the
SQLite write lock (``BEGIN IMMEDIATE``). Services take plain arguments and never commit; the
adapters (web pages, REST routes, CLI commands, scheduler jobs) open one unit of work and end it
here. It is the only place in the product that commits or rolls back (a test walks the source).

* the web kit opens one lazily per request (:func:`core.web.unit_of_work`) and closes it at
  teardown, rolling back anything not committed;
* commands and jobs use :func:`unit_of_work`, which commits when the block returns and rolls back
  when it raises.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from core.clock import Clock
from core.db import SessionFactory, is_postgres
from core.errors import AuthenticationFailed
from core.identity.authz import Actor

S = TypeVar("S")


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer (SQLite-specific: ``BEGIN IMMEDIATE``).

    A deferred SQLite transaction that reads, then writes fails with "database is locked" when
    another writer committed in between; taking the write lock before the first read makes
    concurrent writers wait their turn instead. PostgreSQL needs nothing (row locks). A no-op
    when the session's transaction has already begun.
    """
    if not session.in_transaction() and not is_postgres(session):
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


@dataclass
class UnitOfWork:
    """One request's, command's or job's work on the database.

    ``config`` is the application's :class:`core.config.Config` (typed loosely: the kernel does
    not need its fields); ``settings`` maps a slice's name to the settings object its manifest
    built from that configuration (:meth:`settings_of`).
    """

    session: Session
    clock: Clock
    config: Any = None
    actor: Actor | None = None
    settings: Mapping[str, object] = field(default_factory=dict)

    @property
    def acting(self) -> Actor:
        """The acting user; :class:`AuthenticationFailed` when nobody is (an anonymous request)."""
        if self.actor is None:
            raise AuthenticationFailed("authentication required")
        return self.actor

    def settings_of(self, name: str, kind: type[S]) -> S:
        """The settings of slice ``name``, checked to be a ``kind``."""
        found = self.settings.get(name)
        if not isinstance(found, kind):
            raise LookupError(f"no {kind.__name__} settings for slice {name!r}")
        return found

    def write(self) -> Session:
        """Take the write lock before the first read (see :func:`begin_write`); the session."""
        begin_write(self.session)
        return self.session

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def close(self) -> None:
        """End the session; anything not committed is rolled back."""
        self.session.close()

    def transaction(self, *, write: bool = True) -> AbstractContextManager[Session]:
        """Run the block as one transaction (:func:`_block`). ``write`` takes the write lock
        first (the usual case: read, then change)."""
        return _block(self.session, write=write)


class NestedUnitOfWork:
    """A use case's transactions inside a transaction another unit of work owns (a playbook step
    that polls a feed): its ``commit`` and ``rollback`` act on a savepoint, begun again after
    each, so it keeps or discards its own work without ending the owner's transaction;
    :meth:`close` keeps what the last savepoint holds. The owner commits everything at the end."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._savepoint = session.begin_nested()

    @property
    def session(self) -> Session:
        return self._session

    def write(self) -> Session:
        return self._session

    def commit(self) -> None:
        self._savepoint.commit()
        self._savepoint = self._session.begin_nested()

    def rollback(self) -> None:
        self._savepoint.rollback()
        self._savepoint = self._session.begin_nested()

    def close(self) -> None:
        if self._savepoint.is_active:
            self._savepoint.commit()


@contextmanager
def _block(session: Session, *, write: bool) -> Iterator[Session]:
    """The block as one transaction of ``session``: committed when it returns; rolled back (and
    re-raised) when it or the commit raises, so that the session can be used again. ``write``
    takes the write lock first."""
    if write:
        begin_write(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def transaction(factory: SessionFactory, *, write: bool = False) -> Iterator[Session]:
    """One transaction on a new session, for the kernel's own bookkeeping that needs no actor or
    clock (job runs, outbox claims, event deliveries): committed when the block returns, rolled
    back when it raises, always closed. ``write`` takes the write lock first."""
    session = factory()
    try:
        with _block(session, write=write):
            yield session
    finally:
        session.close()


@contextmanager
def unit_of_work(
    factory: SessionFactory,
    *,
    clock: Clock,
    config: Any = None,
    actor: Actor | None = None,
    settings: Mapping[str, object] | None = None,
    write: bool = False,
) -> Iterator[UnitOfWork]:
    """A unit of work on a new session from ``factory`` (commands, jobs, tests): committed when
    the block returns, rolled back when it raises, always closed. ``write`` takes the write lock
    first (for work that reads, then writes, beside other writers)."""
    uow = UnitOfWork(factory(), clock, config, actor, dict(settings or {}))
    try:
        with uow.transaction(write=write):
            yield uow
    finally:
        uow.close()
