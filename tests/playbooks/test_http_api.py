"""The ``http-api`` executor against a real HTTP server on 127.0.0.1: the allow-list (host,
port, redirects), timeouts, escaping of variables by place, and the step's outcome."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from playbooks import actions
from playbooks.engine.registry import CommandCall, CommandOutcome, executor, recorded_command
from playbooks.models import Playbook, PlaybookRun
from playbooks.settings import PlaybookSettings, parse_allow_list
from tests.playbooks.cacao_kit import document, sid

assert actions.httpapi  # registers the executors
HOSTILE = '"}, "admin": true, "x": "'


@dataclass
class Server:
    port: int
    received: list[dict[str, Any]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        seen = {"method": self.command, "path": self.path, "headers": dict(self.headers)}
        self.server.received.append({**seen, "body": body})
        port = self.server.server_address[1]
        route = self.path.split("?")[0]
        if route == "/slow":
            time.sleep(1.5)
        if route == "/redirect-off":
            return self._send(302, b"", {"Location": f"http://127.0.0.2:{port}/ok"})
        if route == "/redirect-on":
            return self._send(303, b"", {"Location": "/ok?followed=1"})
        if route == "/loop":
            return self._send(307, b"", {"Location": "/loop"})
        status = 500 if route == "/fail" else 200
        self._send(status, json.dumps(seen | {"body": body}).encode(), {})

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815 - http.server's names


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    found = Server(httpd.server_address[1])
    httpd.received = found.received  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield found
    httpd.shutdown()
    httpd.server_close()


def call(
    server: Server,
    command: dict[str, Any],
    *,
    allow: str | None = None,
    address: dict[str, Any] | None = None,
    port: str | None = None,
    variables: dict[str, Any] | None = None,
    timeout: float = 5.0,
) -> CommandOutcome:
    agent_id = sid("http-api")
    agent: dict[str, Any] = {
        "type": "http-api",
        "name": "SIEM",
        "address": address or {"url": [f"http://127.0.0.1:{server.port}"]},
    }
    if port is not None:
        agent["port"] = port
    doc = document(commands=[command])
    doc["agent_definitions"][agent_id] = agent
    step_id, step = next((k, v) for k, v in doc["workflow"].items() if v["type"] == "action")
    step["agent"] = agent_id
    playbook = Playbook(name="HTTP test", document=json.dumps(doc))
    run = PlaybookRun(id=7, playbook=playbook)
    settings = PlaybookSettings(
        http_allow=parse_allow_list(allow or f"127.0.0.1:{server.port}"),
        http_timeout_seconds=timeout,
    )
    the_call = CommandCall(
        run=run,
        step_id=step_id,
        step=step,
        command=command,
        variables=variables or {},
        incident=None,
        organisation=None,
        actor=Actor.system("playbook-run:7"),
        clock=FrozenClock(),
        settings=settings,
    )
    registered = executor("http-api")
    assert registered is not None and registered.external
    return registered.fn(cast(Session, None), the_call)


def test_an_allowed_call_returns_status_and_response(server: Server) -> None:
    command = {
        "type": "http-api",
        "command": "GET /ok?host=__host__:value HTTP/1.1",
        "headers": {"Accept": ["application/json"], "Authorization": ["Bearer s3cret"]},
    }
    outcome = call(server, command, variables={"__host__": "a b&c=d/e"})
    assert outcome.ok, outcome.error
    assert outcome.outputs["__status_code__"] == 200
    seen = json.loads(outcome.outputs["__response__"])
    assert seen["path"] == "/ok?host=a%20b%26c%3Dd%2Fe"  # the value percent-encoded
    assert seen["headers"]["Authorization"] == "Bearer s3cret"
    assert "s3cret" not in json.dumps(recorded_command(command))
    assert recorded_command(command)["headers"]["Accept"] == ["application/json"]


def test_a_host_off_the_list_is_refused_before_any_request(server: Server) -> None:
    command = {"type": "http-api", "command": "GET /ok HTTP/1.1"}
    outcome = call(server, command, address={"ipv4": ["127.0.0.2"]}, port=str(server.port))
    assert not outcome.ok and "127.0.0.2" in (outcome.error or "")
    assert "CERT_PLAYBOOK_HTTP_ALLOW" in (outcome.error or "")
    assert server.received == []


def test_a_port_off_the_list_is_refused(server: Server) -> None:
    command = {"type": "http-api", "command": "GET /ok HTTP/1.1"}
    outcome = call(server, command, allow=f"127.0.0.1:{server.port + 1}")
    assert not outcome.ok and f"127.0.0.1:{server.port}" in (outcome.error or "")
    assert server.received == []


def test_a_redirect_off_the_list_is_refused(server: Server) -> None:
    outcome = call(server, {"type": "http-api", "command": "GET /redirect-off HTTP/1.1"})
    assert not outcome.ok
    assert outcome.error == f"http-api: redirect off the allow-list to 127.0.0.2:{server.port}"
    assert [r["path"] for r in server.received] == ["/redirect-off"]


def test_a_redirect_on_the_list_is_followed(server: Server) -> None:
    command = {
        "type": "http-api",
        "command": "POST /redirect-on HTTP/1.1",
        "headers": {"Content-Type": ["text/plain"]},
        "content": "hello",
    }
    outcome = call(server, command)
    assert outcome.ok and outcome.outputs["__status_code__"] == 200
    assert [(r["method"], r["path"]) for r in server.received] == [
        ("POST", "/redirect-on"),
        ("GET", "/ok?followed=1"),  # 303: GET without the body
    ]


def test_endless_redirects_stop_after_three(server: Server) -> None:
    outcome = call(server, {"type": "http-api", "command": "GET /loop HTTP/1.1"})
    assert not outcome.ok and "more than 3 redirects" in (outcome.error or "")
    assert len(server.received) == 4


def test_a_slow_server_times_out(server: Server) -> None:
    started = time.monotonic()
    outcome = call(server, {"type": "http-api", "command": "GET /slow HTTP/1.1"}, timeout=0.3)
    assert not outcome.ok and "no answer within 0.3 s" in (outcome.error or "")
    assert time.monotonic() - started < 1.4


def test_a_line_break_in_a_header_value_is_refused(server: Server) -> None:
    command = {
        "type": "http-api",
        "command": "GET /ok HTTP/1.1",
        "headers": {"X-Reference": ["__ref__:value"]},
    }
    outcome = call(server, command, variables={"__ref__": "A\r\nX-Admin: yes"})
    assert not outcome.ok and "headers.X-Reference" in (outcome.error or "")
    assert server.received == []


def test_a_json_body_escapes_a_hostile_value(server: Server) -> None:
    command = {
        "type": "http-api",
        "command": "POST /ok HTTP/1.1",
        "headers": {"Content-Type": ["application/json"]},
        "content": '{"title": "__title__:value", "admin": false}',
    }
    outcome = call(server, command, variables={"__title__": HOSTILE})
    assert outcome.ok, outcome.error
    sent = json.loads(server.received[0]["body"])
    assert sent == {"title": HOSTILE, "admin": False}


def test_a_server_error_fails_the_step_with_its_answer(server: Server) -> None:
    outcome = call(server, {"type": "http-api", "command": "DELETE /fail HTTP/1.1"})
    assert not outcome.ok and outcome.error == "HTTP 500"
    assert outcome.outputs["__status_code__"] == 500
    assert json.loads(outcome.outputs["__response__"])["method"] == "DELETE"


def test_a_malformed_command_is_refused(server: Server) -> None:
    outcome = call(server, {"type": "http-api", "command": "FETCH ok"})
    assert not outcome.ok and "METHOD /path" in (outcome.error or "")
    outcome = call(server, {"type": "http-api", "command": "GET /ok?x=__nope__:value HTTP/1.1"})
    assert not outcome.ok and "unknown variable __nope__" in (outcome.error or "")
    assert server.received == []


def test_a_dname_agent_is_called_over_https_by_default(server: Server) -> None:
    command = {"type": "http-api", "command": "GET /ok HTTP/1.1"}
    outcome = call(
        server,
        command,
        address={"dname": ["LOCALHOST."]},
        port=str(server.port),
        allow=f"localhost:{server.port}",
    )
    # the plain-HTTP test server cannot answer a TLS handshake: HTTPS was attempted
    assert not outcome.ok and outcome.error == "http-api: SSLError"
    refused = call(
        server, command, address={"dname": ["localhost"]}, allow=f"localhost:{server.port}"
    )
    assert not refused.ok and "localhost:443 is not on" in (refused.error or "")
