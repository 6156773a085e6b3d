"""Leader election of the scheduler processes: only the holder of the leader lock runs jobs.

* PostgreSQL: a **session-level** advisory lock (``pg_try_advisory_lock``) taken on a dedicated
  autocommit connection that is never pooled; PostgreSQL drops it when the leader dies.
* SQLite: an exclusive ``flock`` on a file next to the database (one host only).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.config import Config

log = logging.getLogger("cert.scheduler")  # one logger for the whole scheduler process

EXIT_LOCK_LOST = 3


class LeaderLock(Protocol):
    description: str

    def try_acquire(self) -> bool: ...
    def alive(self) -> bool: ...
    def release(self) -> None: ...


def libpq_uri(database_url: str) -> str:
    """A libpq URI for a SQLAlchemy URL (driver name dropped, query parameters such as
    ``options`` kept)."""
    url = make_url(database_url)
    userinfo = quote(url.username or "", safe="")
    if url.password is not None:
        userinfo += ":" + quote(str(url.password), safe="")
    host = f"[{url.host}]" if url.host and ":" in url.host else (url.host or "")
    netloc = (f"{userinfo}@" if userinfo else "") + host + (f":{url.port}" if url.port else "")
    path = "/" + quote(url.database, safe="") if url.database else ""
    query = urlencode(dict(url.query), doseq=True, quote_via=quote)
    return f"postgresql://{netloc}{path}" + (f"?{query}" if query else "")


# libpq side of the lock connection: give up on a silent server after ~20 s
LOCK_CONNINFO = (
    "application_name=vigie-scheduler connect_timeout=10 keepalives=1 keepalives_idle=5"
    " keepalives_interval=5 keepalives_count=3 tcp_user_timeout=20000"
)


class AdvisoryLock:
    """PostgreSQL-specific: a session-level advisory lock on a dedicated autocommit connection.

    Never pooled (a pool or PgBouncer in transaction mode would hand the session, and so the
    lock, to someone else). TCP keepalives on both ends bound how long a partitioned leader
    keeps the lock.
    """

    def __init__(self, dsn: str, key: int) -> None:
        self.dsn = dsn
        self.key = key
        self.description = f"PostgreSQL advisory lock {key}"
        self._conn: psycopg.Connection[Any] | None = None

    def _connect(self) -> psycopg.Connection[Any]:
        # the session's name says which runner holds the lock (``cert doctor``, /metrics)
        options = {**conninfo_to_dict(LOCK_CONNINFO), "application_name": application_name()}
        conninfo = make_conninfo(self.dsn, **options)
        conn = psycopg.connect(conninfo, autocommit=True)
        conn.execute(
            "SELECT set_config('tcp_keepalives_idle', '5', false),"
            " set_config('tcp_keepalives_interval', '5', false),"
            " set_config('tcp_keepalives_count', '3', false)"
        )
        return conn

    def try_acquire(self) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            row = self._conn.execute(
                "SELECT pg_try_advisory_lock(%s::bigint)", (self.key,)
            ).fetchone()
        except psycopg.Error:
            self.release()  # reconnect on the next attempt
            raise
        return bool(row and row[0])

    def alive(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def release(self) -> None:
        """Closing the session releases the lock."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


class FileLock:
    """SQLite: an exclusive, non-blocking ``flock`` on a file next to the database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"lock file {path}"
        self._fd: int | None = None
        self._held = False

    def try_acquire(self) -> bool:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{runner_name()}\n".encode())
        self._held = True
        return True

    def alive(self) -> bool:
        return self._held

    def release(self) -> None:
        """Closing the descriptor releases the lock."""
        fd, self._fd, self._held = self._fd, None, False
        if fd is not None:
            os.close(fd)


def leader_lock(config: Config) -> LeaderLock:
    url = make_url(config.database_url)
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(libpq_uri(config.database_url), config.scheduler_lock_key)
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        return FileLock(Path(f"{database}.scheduler-lock"))
    return FileLock(config.instance_dir / "scheduler.lock")


def check_leader_lock(lock: LeaderLock, terminate: Callable[[int], Any] = os._exit) -> None:
    """Liveness job: exit at once when the lock (connection) is gone, so a standby takes over."""
    if lock.alive():
        return
    log.critical("scheduler: leader lock lost (%s); exiting", lock.description)
    terminate(EXIT_LOCK_LOST)


# ------------------------------------------------------------------ who leads (doctor, metrics)
APPLICATION_PREFIX = "vigie-scheduler "


def runner_name() -> str:
    """``host:pid`` of this process, as ``job_runs.runner`` records it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def application_name() -> str:
    """The lock session's ``application_name`` (PostgreSQL keeps 63 bytes of it)."""
    return (APPLICATION_PREFIX + runner_name()).encode()[:63].decode(errors="ignore")


@dataclass(frozen=True)
class Leadership:
    """Whether a scheduler holds the leader lock now, and which runner (``host:pid``) if known."""

    held: bool
    runner: str | None = None


LOCK_HOLDER = text(
    "SELECT a.application_name FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND l.classid::bigint = :high AND l.objid::bigint = :low"
)


def leadership(config: Config, session: Session) -> Leadership:
    """Read, without taking it, who holds the leader lock of ``config``'s database.

    PostgreSQL: the advisory lock in ``pg_locks`` and its session's ``application_name``
    (``vigie-scheduler host:pid``). SQLite: a shared, non-blocking ``flock`` probe of the lock
    file (refused while a leader holds it exclusively; released at once otherwise) and the
    ``host:pid`` the leader wrote in it.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = config.scheduler_lock_key & 0xFFFFFFFFFFFFFFFF  # the bigint's two 32-bit halves
        row = session.execute(LOCK_HOLDER, {"high": key >> 32, "low": key & 0xFFFFFFFF}).first()
        if row is None:
            return Leadership(held=False)
        name = row[0] or ""
        return Leadership(True, name.removeprefix(APPLICATION_PREFIX) if name else None)
    lock = leader_lock(config)
    if not isinstance(lock, FileLock):
        return Leadership(held=False)
    return _file_leadership(lock.path)


def _file_leadership(path: Path) -> Leadership:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return Leadership(held=False)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            runner = os.read(fd, 300).decode(errors="replace").strip()
            return Leadership(True, runner or None)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return Leadership(held=False)
    finally:
        os.close(fd)
