"""``bench/intake.py --http``: each app served by gunicorn (sync workers, as ``cert web``) on a
loopback port, and a client that POSTs from several threads, one connection per request."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from bench.intake_setup import PER_TOKEN, Poster, baseline_app, body, vigie_app
from core.db import make_engine

SCRIPT = Path(__file__).resolve().parent / "intake.py"  # run as the server by http_server

SERVE = "VIGIE_BENCH_SERVE"  # set: this script runs as the gunicorn server of one app


def served_app() -> Flask:
    """The app a gunicorn worker serves with ``--http`` (named by the environment)."""
    url = os.environ["VIGIE_BENCH_URL"]
    if os.environ[SERVE] == "vigie":
        return vigie_app(url, Path(os.environ["VIGIE_BENCH_INSTANCE"]))
    return baseline_app(make_engine(url))


def serve() -> None:
    """Run gunicorn (sync workers, as ``cert web``) on the app and address in the environment;
    each worker builds its own app (its own connection pool)."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", os.environ["VIGIE_BENCH_BIND"])
            self.cfg.set("workers", int(os.environ["VIGIE_BENCH_WORKERS"]))
            self.cfg.set("loglevel", "warning")

        def load(self) -> Flask:
            return served_app()

    Server().run()


@contextmanager
def http_server(which: str, url: str, instance: Path, workers: int) -> Iterator[int]:
    """``which`` app served by gunicorn (sync workers, as ``cert web``) on a loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {
        **os.environ,
        SERVE: which,
        "VIGIE_BENCH_URL": url,
        "VIGIE_BENCH_INSTANCE": str(instance),
        "VIGIE_BENCH_BIND": f"127.0.0.1:{port}",
        "VIGIE_BENCH_WORKERS": str(workers),
    }
    server = subprocess.Popen([sys.executable, str(SCRIPT)], env=env)  # noqa: S603 (this script)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the {which} server did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(30)


class HttpPoster(Poster):
    """POSTs over loopback HTTP from ``clients`` threads (one connection per request: gunicorn's
    sync workers close it after each answer)."""

    def __init__(self, port: int, path: str, tokens: Sequence[str], clients: int) -> None:
        self.port, self.path, self.tokens, self.clients, self.sent = port, path, tokens, clients, 0

    def post(self, payload: dict[str, Any]) -> None:
        self._send([(self.sent, json.dumps(payload).encode())])
        self.sent += 1

    def _send(self, items: Sequence[tuple[int, bytes]]) -> None:
        for number, data in items:
            headers = {"Content-Type": "application/json"}
            if self.tokens:
                headers["Authorization"] = f"Bearer {self.tokens[number // PER_TOKEN]}"
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                connection.request("POST", self.path, body=data, headers=headers)
                response = connection.getresponse()
                answer = response.read()
            finally:
                connection.close()
            if response.status != 201:
                raise SystemExit(f"POST {self.path} answered {response.status}: {answer[:500]!r}")

    def rate(self, run: str, count: int) -> float:
        items = [(self.sent + i, json.dumps(body(run, i)).encode()) for i in range(count)]
        self.sent += count
        with ThreadPoolExecutor(self.clients) as pool:
            started = time.perf_counter()
            list(pool.map(self._send, [items[k :: self.clients] for k in range(self.clients)]))
            return count / (time.perf_counter() - started)
