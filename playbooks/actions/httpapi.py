"""The CACAO ``http-api`` command (Flask-free): ``"METHOD /path?query HTTP/1.1"`` sent to the
host of the step's ``http-api`` agent (or target), only when that host and port are on
``CERT_PLAYBOOK_HTTP_ALLOW`` (:attr:`PlaybookSettings.http_allow`).

* The agent: ``address`` ``{"dname": [...]}``, ``{"ipv4": [...]}``, ``{"ipv6": [...]}`` or
  ``{"url": [...]}`` (its scheme, host and port), optional ``port``; HTTPS unless a ``url``
  says ``http://``.
* Variables are escaped for where they go: percent-encoded in the path and query; refused in
  a header value when they hold a line break; JSON-string-escaped in a ``content`` whose
  ``Content-Type`` is JSON; as text in other content. ``content_b64`` is sent as decoded.
* ``requests`` with ``allow_redirects=False`` and ``http_timeout_seconds``; at most
  :data:`MAX_REDIRECTS` redirects are followed, each only to an allowed host and port.
* ok on 2xx; outputs ``__status_code__`` and ``__response__`` (text, at most
  :data:`MAX_RESPONSE` bytes). Credentials never reach the step's record:
  :func:`masked_command` is what the engine records as the step's inputs.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests
from sqlalchemy.orm import Session

from playbooks.engine.registry import CommandCall, CommandOutcome, register
from playbooks.rules.substitution import UnknownVariable, as_text, substitute
from playbooks.settings import PlaybookSettings

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MAX_REDIRECTS = 3
MAX_RESPONSE = 64 * 1024
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
SENSITIVE = ("authorization", "cookie", "token", "secret", "password", "api-key", "apikey")
MASK = "********"
_LINE_BREAK = frozenset("\r\n\x00\x85\u2028\u2029")


class Refused(Exception):
    """Why the command is not sent (or its answer not followed)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int | None

    @property
    def default_port(self) -> int:
        return 80 if self.scheme == "http" else 443

    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + (f":{self.port}" if self.port else "")


def sensitive(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SENSITIVE)


def masked_command(command: Mapping[str, Any]) -> dict[str, Any]:
    """``command`` as the step's inputs may record it: credentials headers masked."""
    result = dict(command)
    headers = command.get("headers")
    if isinstance(headers, Mapping):
        result["headers"] = {
            name: ([MASK] if sensitive(str(name)) else values) for name, values in headers.items()
        }
    return result


def execute(session: Session, call: CommandCall) -> CommandOutcome:
    """Send the command (see the module docstring)."""
    try:
        request = _Request.build(session, call)
        response = _send(request, call.settings)
    except Refused as exc:
        return CommandOutcome(ok=False, error=str(exc))
    except UnknownVariable as exc:
        return CommandOutcome(ok=False, error=f"http-api: {exc}")
    except requests.Timeout:
        return CommandOutcome(
            ok=False, error=f"http-api: no answer within {call.settings.http_timeout_seconds:g} s"
        )
    except requests.RequestException as exc:
        return CommandOutcome(ok=False, error=f"http-api: {type(exc).__name__}")
    status, text = response
    outputs = {"__status_code__": status, "__response__": text}
    line = f"{request.method} {request.path_only} → {status}"
    if 200 <= status < 300:
        return CommandOutcome(outputs=outputs, result=line)
    return CommandOutcome(ok=False, outputs=outputs, result=line, error=f"HTTP {status}")


@dataclass
class _Request:
    method: str
    url: str
    target: Target
    headers: dict[str, str]
    body: bytes | None

    @property
    def path_only(self) -> str:
        return urlsplit(self.url).path[:120]

    @classmethod
    def build(cls, session: Session, call: CommandCall) -> _Request:
        command, variables = call.command, call.variables
        method, path = _request_line(command, variables)
        target = _target(call)
        if not call.settings.allows(target.host, target.port, default_port=target.default_port):
            raise Refused(f"http-api: {_where(target)} is not on CERT_PLAYBOOK_HTTP_ALLOW")
        headers = _headers(command.get("headers"), variables)
        body = _body(command, headers, variables)
        return cls(method, target.origin() + path, target, headers, body)


def _request_line(command: Mapping[str, Any], variables: Mapping[str, Any]) -> tuple[str, str]:
    line = command.get("command")
    if line is None and isinstance(command.get("command_b64"), str):
        line = _b64(command["command_b64"], "command_b64").decode("utf-8", "replace")
    if not isinstance(line, str):
        raise Refused('http-api: command: "METHOD /path HTTP/1.1" required')
    parts = line.split()
    if len(parts) not in (2, 3) or parts[0].upper() not in METHODS or not parts[1].startswith("/"):
        raise Refused(f'http-api: command: {line[:80]!r} is not "METHOD /path HTTP/1.1"')
    path = substitute(parts[1], variables, escape=lambda v: quote(v, safe=""))
    if path.startswith("//"):
        raise Refused("http-api: command: the path must not start with //")
    return parts[0].upper(), path


def _target(call: CommandCall) -> Target:
    """The step's ``http-api`` agent (or first such target) from the playbook's definitions."""
    document = json.loads(call.run.playbook.document)
    agents = document.get("agent_definitions") or {}
    targets = document.get("target_definitions") or {}
    refs = [call.step.get("agent"), *(call.step.get("targets") or [])]
    for ref in refs:
        definition = agents.get(ref) or targets.get(ref) if isinstance(ref, str) else None
        if isinstance(definition, Mapping) and definition.get("type") == "http-api":
            return _address(definition)
    raise Refused("http-api: the step names no http-api agent or target")


def _address(definition: Mapping[str, Any]) -> Target:
    address = definition.get("address")
    port = _port(definition.get("port"))
    if not isinstance(address, Mapping):
        raise Refused("http-api: the agent has no address")
    for kind in ("url", "dname", "ipv4", "ipv6"):
        values = address.get(kind)
        if isinstance(values, list) and values and isinstance(values[0], str):
            value = values[0].strip()
            if kind != "url":
                return Target("https", value.lower().rstrip(".").strip("[]"), port)
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise Refused(f"http-api: the agent's url {value[:80]!r} is not http(s)")
            return Target(parts.scheme, parts.hostname.lower().rstrip("."), parts.port or port)
    raise Refused("http-api: the agent's address has no url, dname, ipv4 or ipv6")


def _port(value: Any) -> int | None:
    if value is None or value == "":
        return None
    text = str(value)
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise Refused(f"http-api: the agent's port {text[:10]!r} is not 1 to 65535")
    return int(text)


def _headers(raw: Any, variables: Mapping[str, Any]) -> dict[str, str]:
    """CACAO headers (name → list of values), each value's variables refused with a line
    break; several values are joined by ``, `` (RFC 9110)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise Refused("http-api: headers: must be an object of lists")
    result: dict[str, str] = {}
    for name, values in raw.items():
        if not isinstance(name, str) or not name or any(c in name for c in ":\r\n \t"):
            raise Refused(f"http-api: headers: {str(name)[:40]!r} is not a header name")
        listed = values if isinstance(values, list) else [values]
        texts = []
        for value in listed:
            if not isinstance(value, str):
                raise Refused(f"http-api: headers.{name}: values must be strings")
            texts.append(substitute(value, variables, escape=functools.partial(_one_line, name)))
            if any(c in texts[-1] for c in _LINE_BREAK):
                raise Refused(f"http-api: headers.{name}: a line break in a header value")
        result[name] = ", ".join(texts)
    return result


def _one_line(name: str, value: str) -> str:
    if any(c in value for c in _LINE_BREAK):
        raise Refused(f"http-api: headers.{name}: a variable's value holds a line break")
    return value


def _body(
    command: Mapping[str, Any], headers: Mapping[str, str], variables: Mapping[str, Any]
) -> bytes | None:
    if command.get("content_b64") is not None:
        return _b64(command["content_b64"], "content_b64")
    content = command.get("content")
    if content is None:
        return None
    if not isinstance(content, str):
        raise Refused("http-api: content: must be a string")
    kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if "json" in kind.lower():
        text = substitute(content, variables, escape=lambda v: json.dumps(v)[1:-1])
    else:
        text = substitute(content, variables, escape=as_text)
    return text.encode("utf-8")


def _b64(value: Any, field: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise Refused(f"http-api: {field}: not base64") from None


def _where(target: Target) -> str:
    return f"{target.host}:{target.port or target.default_port}"


def _send(request: _Request, settings: PlaybookSettings) -> tuple[int, str]:
    """The final answer's status and text, after at most :data:`MAX_REDIRECTS` allowed
    redirects."""
    method, url, headers, body = request.method, request.url, dict(request.headers), request.body
    with requests.Session() as client:
        client.trust_env = False  # no proxy, no .netrc credentials from the environment
        for _ in range(MAX_REDIRECTS + 1):
            answer = client.request(
                method,
                url,
                headers=headers,
                data=body,
                timeout=settings.http_timeout_seconds,
                allow_redirects=False,
                stream=True,
            )
            with answer:
                location = answer.headers.get("location")
                if answer.status_code not in REDIRECT_CODES or not location:
                    return answer.status_code, _text(answer, settings.http_timeout_seconds)
            url, method, body, headers = _redirect(
                url, location, answer.status_code, method, body, headers, settings
            )
    raise Refused(f"http-api: more than {MAX_REDIRECTS} redirects")


def _redirect(
    url: str,
    location: str,
    status: int,
    method: str,
    body: bytes | None,
    headers: dict[str, str],
    settings: PlaybookSettings,
) -> tuple[str, str, bytes | None, dict[str, str]]:
    target_url = urljoin(url, location)
    parts, before = urlsplit(target_url), urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    default = 80 if parts.scheme == "http" else 443
    if parts.scheme not in ("http", "https") or not host:
        raise Refused(f"http-api: redirect to a non-HTTP location {target_url[:80]!r}")
    if not settings.allows(host, parts.port, default_port=default):
        raise Refused(f"http-api: redirect off the allow-list to {host}:{parts.port or default}")
    if (parts.scheme, parts.hostname, parts.port) != (before.scheme, before.hostname, before.port):
        headers = {k: v for k, v in headers.items() if not sensitive(k)}
    if status == 303 or (status in (301, 302) and method == "POST"):
        method, body = ("HEAD" if method == "HEAD" else "GET"), None
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    return target_url, method, body, headers


def _text(answer: requests.Response, timeout: float) -> str:
    """The answer's first :data:`MAX_RESPONSE` bytes as text, read within ``timeout`` seconds
    in all (a server dripping bytes does not hold the step longer)."""
    deadline = time.monotonic() + timeout
    data = b""
    for chunk in answer.iter_content(8192):
        data += chunk
        if len(data) >= MAX_RESPONSE:
            break
        if time.monotonic() > deadline:
            raise requests.Timeout("the answer took too long")
    try:
        return data[:MAX_RESPONSE].decode(answer.encoding or "utf-8", "replace")
    except LookupError:  # an encoding name Python does not know
        return data[:MAX_RESPONSE].decode("utf-8", "replace")


register("http-api", execute, external=True, mask=masked_command)
