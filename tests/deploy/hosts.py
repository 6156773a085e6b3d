"""Several "hosts" on loopback for the multi-host proof: ``cert web`` (gunicorn, as production runs
it) and ``cert scheduler`` processes sharing one PostgreSQL schema and one Redis database.

Every process is a real ``cert`` command started with the environment an operator would give it;
the schema is migrated by ``cert db upgrade`` run as a process too.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

from cert.scheduler import libpq_uri
from tests.kit.scheduler import wait_until
from tests.kit.smtp import free_port

CERT = [sys.executable, "-c", "from cert.cli import main; main()"]
REDIS_DB = 7  # this proof's own Redis database on the machine's server (flushed before and after)
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"


def host_env(database_url: str, instance_dir: Path, **extra: str) -> dict[str, str]:
    """The environment every process of the deployment shares (one database, one Redis)."""
    return {
        **os.environ,
        "CERT_DATABASE_URL": database_url,
        "CERT_SECRET_KEY": "m" * 40,
        "CERT_INSTANCE_DIR": str(instance_dir),
        "CERT_BASE_URL": "http://127.0.0.1",  # no TLS on loopback: cookies not "Secure"
        "CERT_RATELIMIT_STORAGE_URL": REDIS_URL,
        "CERT_MFA_REQUIRED_ROLES": "",
        "CERT_SCHEDULER_LOCK_KEY": str(random.randint(1, 2**62)),
        "CERT_SCHEDULER_POLL_SECONDS": "1",
        "CERT_OUTBOX_INTERVAL": "1",
        "CERT_EVENTS_INTERVAL": "1",
        **extra,
    }


def cert_db_upgrade(env: Mapping[str, str]) -> None:
    """``cert db upgrade`` as a process (what the deployment's one-off migration step runs)."""
    done = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [*CERT, "db", "upgrade"],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def flush_redis() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class WebProcess:
    """``cert web --bind 127.0.0.1:PORT --workers N``; its output kept for failure messages."""

    def __init__(self, env: Mapping[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.log = Path(env["CERT_INSTANCE_DIR"]) / f"web-{self.port}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
                [*CERT, "web", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)],
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 180) -> None:
        """Until ``/readyz`` answers 200 (booting and warming workers is slow on a loaded
        machine: the deadline is generous, each probe short)."""

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"cert web exited {self.proc.returncode}:\n{self.output()}")
            try:
                return self.request("GET", "/readyz", timeout=5).status == 200
            except OSError:
                return False

        try:
            wait_until(ready, timeout, f"cert web on port {self.port}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; it printed:\n{self.output()[-4000:]}") from None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        timeout: float = 120,
    ) -> Answer:
        """One request on a connection of its own (as a load balancer's new connection)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            sent = {"Content-Type": "application/json", **(headers or {})} if payload else headers
            conn.request(method, path, body=payload, headers=dict(sent or {}))
            response = conn.getresponse()
            raw = response.read()
            answer_headers = {k.lower(): v for k, v in response.getheaders()}
            parsed = (
                json.loads(raw)
                if answer_headers.get("content-type", "").startswith("application/json") and raw
                else {"text": raw.decode(errors="replace")}
            )
            return Answer(response.status, parsed, answer_headers)
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


def lock_holder_pid(database_url: str, key: int) -> int | None:
    """The client address's backend holding the scheduler's advisory lock ``key`` → the pid of
    the ``cert scheduler`` process that owns that session (``application_name`` and the client
    port identify it: the lock connection is a TCP connection of that process)."""
    with psycopg.connect(libpq_uri(database_url), autocommit=True) as admin:
        row = admin.execute(
            "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted"
            " AND (l.classid::bigint << 32 | l.objid::bigint) = %s::bigint",
            (key,),
        ).fetchone()
    if row is None or row[0] is None:
        return None
    return _pid_of_local_port(int(row[0]))


def _pid_of_local_port(port: int) -> int | None:
    """The local process with a TCP socket bound to ``port`` (read from /proc, no tool needed)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in links:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return int(pid)
    return None


class Burst:
    """Client threads POSTing over the web processes in turn, recording every answer."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, str, Answer]] = []  # (token, key, answer)
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def record(self, token: str, key: str, answer: Answer) -> None:
        with self._lock:
            self.answers.append((token, key, answer))

    def failed(self, what: str) -> None:
        with self._lock:
            self.errors.append(what)


def deadline_loop(seconds: float) -> float:
    return time.monotonic() + seconds
