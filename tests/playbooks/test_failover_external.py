"""The scheduler leader killed (``kill -9``) while a playbook's ``http-api`` call is in flight
(PostgreSQL, a standby taking over): the call is never made again — the loopback server counts
one hit — the step fails "interrupted: not repeated" once its lease is over, the run takes the
step's ``on_failure`` branch and finishes. tests/playbooks/test_resume.py kills the leader
between database-only steps; this kills it in the middle of an external one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import SystemClock
from playbooks.engine.steps import INTERRUPTED
from playbooks.models import PlaybookRun, PlaybookStepRun, RunStatus, StepStatus
from tests.dbs import TestDatabase
from tests.kit.scheduler import (
    SchedulerProcess,
    elect,
    job_runs,
    runs_of,
    scheduler_env,
    wait_until,
)
from tests.playbooks.cacao_kit import sid
from tests.playbooks.engine_kit import playbook, start, trail

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
STARTUP = 180  # seconds for a process to start and elect: generous, for a loaded machine
TIMEOUT = 2  # CERT_PLAYBOOK_HTTP_TIMEOUT: the step's lease is this + 30 s


@dataclass
class Held:
    """A loopback HTTP server that counts the calls and holds each until ``release`` is set."""

    port: int = 0
    hits: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def held() -> Iterator[Held]:
    state = Held()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.hits.append(self.path)
            state.release.wait(60)
            try:
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
            except OSError:  # the caller died meanwhile
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def processes() -> Iterator[list[SchedulerProcess]]:
    started: list[SchedulerProcess] = []
    yield started
    for process in started:
        process.close()


def _document(port: int) -> dict[str, Any]:
    agent = sid("http-api")
    doc = playbook({
        "start": {"type": "start", "on_completion": "isolate"},
        "isolate": {"type": "action", "agent": agent, "on_success": "done",
                    "on_failure": "by-hand",
                    "commands": [{"type": "http-api", "command": "POST /isolate HTTP/1.1",
                                  "content": "{\"host\": \"srv-01\"}"}]},
        "done": {"type": "end"},
        "by-hand": {"type": "end"},
    })  # fmt: skip
    doc["agent_definitions"][agent] = {
        "type": "http-api", "name": "EDR", "address": {"url": [f"http://127.0.0.1:{port}"]},
    }  # fmt: skip
    return doc


def _step(factory: sessionmaker[Session], run_id: int) -> PlaybookStepRun | None:
    with factory() as session:
        query = select(PlaybookStepRun).where(PlaybookStepRun.run_id == run_id)
        return session.scalars(query.where(PlaybookStepRun.step_id == "isolate")).first()


def _status(factory: sessionmaker[Session], run_id: int) -> RunStatus:
    with factory() as session:
        return session.get_one(PlaybookRun, run_id).status


@pytest.mark.parametrize("fresh_database", ["postgresql"], indirect=True)
def test_an_external_call_in_flight_when_the_leader_dies_is_never_repeated(
    fresh_database: TestDatabase,
    factory: sessionmaker[Session],
    tmp_path: Path,
    held: Held,
    processes: list[SchedulerProcess],
) -> None:
    with factory() as session:
        run = start(session, _document(held.port), SystemClock())
    env = {
        **scheduler_env(fresh_database.url, tmp_path),
        "CERT_PLAYBOOKS_INTERVAL": "1",
        "CERT_PLAYBOOK_HTTP_ALLOW": f"127.0.0.1:{held.port}",
        "CERT_PLAYBOOK_HTTP_TIMEOUT": str(TIMEOUT),
    }
    processes += [SchedulerProcess(env), SchedulerProcess(env)]
    leader, standby = elect(processes, STARTUP)
    wait_until(lambda: held.hits, 60, "the call to reach the server")
    recorded = _step(factory, run.id)
    assert recorded is not None and recorded.status == StepStatus.INTERRUPTED  # before the call
    leader.kill()  # the call is in flight: its outcome is unknown to Vigie
    held.release.set()
    standby.wait_for(f"scheduler: leader (pid {standby.pid}", 30)
    ended = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)
    wait_until(lambda: _status(factory, run.id) in ended, TIMEOUT + 90, "the run to end")

    assert held.hits == ["/isolate"]  # called once, never again
    with factory() as session:
        assert trail(session, run) == ["start", "isolate:failed", "by-hand"]
        assert session.get_one(PlaybookRun, run.id).status == RunStatus.COMPLETED
    step = _step(factory, run.id)
    assert step is not None and step.error == INTERRUPTED
    advances = [r for r in job_runs(fresh_database.engine) if r.job_id == "playbooks.advance"]
    assert runs_of(advances, leader) and runs_of(advances, standby)
