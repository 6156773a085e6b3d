"""Several gunicorn workers: ``cert web --workers 2`` on loopback, requests spread over both,
every one of them counted in one scrape (prometheus-client's multiprocess mode, the directory
``cert web`` makes for itself and removes at exit)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.cert.metrics.kit import TOKEN, parse, value
from tests.dbs import TestDatabase
from tests.kit.scheduler import wait_until
from tests.kit.smtp import free_port

pytestmark = pytest.mark.slow


class WebServer:
    """``cert web`` as a subprocess; its JSON log lines collected by a thread."""

    def __init__(self, database_url: str, instance: Path, port: int) -> None:
        env = {
            **os.environ,
            "CERT_DATABASE_URL": database_url,
            "CERT_SECRET_KEY": "s" * 40,
            "CERT_INSTANCE_DIR": str(instance),
            "CERT_METRICS_TOKEN": TOKEN,
            "CERT_LOG_FORMAT": "json",
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        command = ["web", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-c", "from cert.cli import main; main()", *command],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def booted(self) -> int:
        """How many workers gunicorn has started so far."""
        return sum("Booting worker" in line for line in list(self.lines))

    def access_pids(self, path: str) -> list[int]:
        """The worker pid of each ``vigie.access`` line of ``path``."""
        found = []
        for line in list(self.lines):
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("logger") == "vigie.access" and record.get("path") == path:
                    found.append(int(record["process"]))
        return found

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self._reader.join(timeout=5)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        return code


def fetch(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)  # noqa: S310 (loopback)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.read().decode()


def test_requests_over_two_workers_counted_in_one_scrape(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    server = WebServer(fresh_database.url, tmp_path / "instance", free_port())
    try:
        wait_until(lambda: _answers(server.url), 240, "cert web to answer")  # busy CI: slow boot
        sent = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            while len(set(server.access_pids("/healthz"))) < 2 and sent < 2000:
                statuses = list(pool.map(lambda _: fetch(server.url + "/healthz")[0], range(40)))
                assert statuses == [200] * 40
                sent += 40
        wait_until(lambda: len(server.access_pids("/healthz")) >= sent, 10, "the access lines")
        pids = server.access_pids("/healthz")
        assert len(set(pids)) == 2, pids  # both workers served some of them
        totals = set()
        for _ in range(6):  # whichever worker answers the scrape, the same figure
            status, text = fetch(server.url + "/metrics", TOKEN)
            assert status == 200
            families = parse(text)
            labels = {"route": "/healthz", "method": "GET", "status": "2xx"}
            totals.add(value(families, "vigie_http_requests_total", **labels))
            count = value(families, "vigie_http_request_duration_seconds_count", **labels)
            assert count == value(families, "vigie_http_requests_total", **labels)
            assert value(families, "vigie_database_up") == 1
        scrapers = set(server.access_pids("/metrics"))
        assert totals == {sent}, (totals, sent, scrapers)
        directory = _metrics_directory(server)
        assert directory.is_dir() and list(directory.glob("*.db"))
        # a worker dies: gunicorn replaces it, and what it counted still counts
        booted = server.booted()
        os.kill(pids[0], signal.SIGKILL)
        wait_until(lambda: server.booted() > booted, 60, "a new worker")
        families = parse(fetch(server.url + "/metrics", TOKEN)[1])
        assert value(families, "vigie_http_requests_total", **labels) == sent
    finally:
        assert server.stop() == 0
    assert not directory.exists()  # made by cert web, removed at its exit


def _answers(url: str) -> bool:
    try:
        return fetch(url + "/readyz")[0] == 200  # not /healthz: those are counted below
    except OSError:
        return False


def _metrics_directory(server: WebServer) -> Path:
    """The multiprocess directory ``cert web`` says it uses."""
    prefix = "metrics: the workers' counters in "
    for line in server.lines:
        message = json.loads(line).get("message", "") if line.startswith("{") else line
        if message.startswith(prefix):
            return Path(message.removeprefix(prefix).strip())
    raise AssertionError("cert web did not name its metrics directory")
