"""The database unreachable during intake, for real (PostgreSQL): the application reaches the
server through a loopback TCP relay that is cut while reporters submit, then restored. While it is
down every submission answers 503 with ``Retry-After`` and nothing is half-written; once it is
back the same submissions (same ``Idempotency-Key``) are stored exactly once each and the ones
stored before the outage replay their reference: nothing lost, nothing twice (issue 24,
"Faults")."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from cert.app import create_app
from core.clock import FrozenClock
from core.outbox import OutboxMessage
from incidents.models import IdempotencyKey, Incident
from tests.dbs import TestDatabase
from tests.incidents.test_api_lock_timeout import app_with, postgres  # noqa: F401  (fixtures)
from tests.kit.api import PHISHING, URL, bearer, committed_reporters, envelope
from tests.kit.config import SUITE_SETTINGS


class Relay:
    """127.0.0.1:``port`` → ``upstream``, byte for byte; :meth:`cut` drops every connection and
    stops listening (the server is then unreachable), :meth:`restore` listens again."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port, self.listener = listener.getsockname()[1], listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        assert self.listener is not None
        with contextlib.suppress(OSError):  # wakes the blocked accept(): close alone would not
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self.lock:
            for end in self.sockets:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self.sockets.clear()


@pytest.fixture
def relay(postgres: TestDatabase) -> Iterator[Relay]:  # noqa: F811
    url = make_url(postgres.url)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    yield relay
    relay.cut()


def _rows(db: TestDatabase) -> dict[str, int]:
    with Session(db.engine) as session:
        return {
            t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
            for t in (Incident, IdempotencyKey, OutboxMessage)
        }


@pytest.mark.postgres
def test_an_outage_during_intake_is_503_and_nothing_is_lost_after_recovery(
    postgres: TestDatabase,  # noqa: F811
    relay: Relay,
    tmp_path: Path,
) -> None:
    clock = FrozenClock()
    relayed = make_url(postgres.url).set(host="127.0.0.1", port=relay.port)
    app = create_app(
        {
            "testing": True,
            **SUITE_SETTINGS,
            "instance_dir": tmp_path / "instance",
            "upload_dir": tmp_path / "uploads",
            "database_url": relayed.render_as_string(hide_password=False),
            "secret_key": "test-secret-key-" + "x" * 32,
            "mail_from": "Vigie <cert@example.test>",
        },
        clock=clock,
    )
    client = app.test_client()
    [secret] = committed_reporters(lambda: Session(postgres.engine), clock)

    def submit(key: str) -> tuple[int, dict[str, object]]:
        response = client.post(
            URL, json=PHISHING, headers=bearer(secret, **{"Idempotency-Key": key})
        )
        if response.status_code == 503:
            envelope(response, 503, "database_unavailable")
            assert response.headers["Retry-After"]
        return response.status_code, response.get_json()

    try:
        before = {key: submit(key) for key in ("k0", "k1")}
        assert {status for status, _ in before.values()} == {201}
        relay.cut()  # the database goes away under the application's pooled connections
        during = {key: submit(key)[0] for key in ("k2", "k3", "k4")}
        assert during == dict.fromkeys(("k2", "k3", "k4"), 503)
        assert _rows(postgres) == {"incidents": 2, "idempotency_keys": 2, "outbox_messages": 2}

        relay.restore()
        after = {key: submit(key) for key in ("k2", "k3", "k4", "k0", "k1")}
        statuses = {key: status for key, (status, _) in after.items()}
        # stored now; the two stored before the outage: replayed (200), not stored again
        assert statuses == {"k2": 201, "k3": 201, "k4": 201, "k0": 200, "k1": 200}
        for key in ("k0", "k1"):
            assert after[key][1]["reference"] == before[key][1]["reference"]
        references = {body["reference"] for _, body in after.values()}
        assert len(references) == 5
        assert _rows(postgres) == {"incidents": 5, "idempotency_keys": 5, "outbox_messages": 5}
    finally:
        app.extensions["vigie"].session_factory.kw["bind"].dispose()
