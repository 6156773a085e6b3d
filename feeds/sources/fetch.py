"""Downloading feed documents over HTTP(S) (Flask-free): timeouts, a size limit, credentials
from named environment variables, and no request to a private address unless allowed.

* Only ``http`` and ``https`` URLs; the host must resolve to public addresses unless
  ``CERT_FEEDS_ALLOW_PRIVATE`` is set (a lead could otherwise point a feed at the CERT's own
  internal services and read their answers in the run report).
* The body is read in chunks and refused past ``CERT_FEEDS_MAX_MB``.
* Credentials: a feed names an environment variable (``password_env``); the secret is read from
  the environment at request time and never stored. With a ``username`` it is HTTP Basic, without
  one a ``Bearer`` token; a missing variable is a :class:`FetchError` naming it.

Tests inject another :class:`Http` (or a loopback server with ``allow_private``).
"""

from __future__ import annotations

import base64
import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import requests

from feeds.settings import FeedSettings

CHUNK = 1 << 16
REDIRECTS = 5


class FetchError(Exception):
    """The document could not be read; the message says why (shown in the run's report)."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    url: str


class Http(Protocol):
    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response: ...


def credentials(username: str | None, password_env: str | None) -> dict[str, str]:
    """The ``Authorization`` header for a feed's credentials (empty without any)."""
    if not password_env:
        return {}
    secret = os.environ.get(password_env)
    if not secret:
        raise FetchError(f"the environment variable {password_env} (the feed's secret) is not set")
    if username:
        token = base64.b64encode(f"{username}:{secret}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}
    return {"Authorization": f"Bearer {secret}"}


def check_url(url: str, *, allow_private: bool) -> None:
    """``FetchError`` unless ``url`` is an http(s) URL whose host is allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"not an http(s) URL: {url!r}")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise FetchError(f"cannot resolve {parts.hostname}: {exc.strerror or exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise FetchError(
                f"{parts.hostname} resolves to {address}, a private or reserved address "
                "(CERT_FEEDS_ALLOW_PRIVATE allows it)"
            )


@dataclass
class RequestsHttp:
    """:class:`Http` over ``requests``, with the feed settings' limits."""

    settings: FeedSettings
    session: requests.Session = field(default_factory=requests.Session)

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
        """GET ``url``, following at most :data:`REDIRECTS` redirects, each target checked
        like the first URL (credentials are not sent to another host)."""
        for _ in range(REDIRECTS + 1):
            response = self._get_once(url, headers)
            location = response.headers.get("location")
            if response.status not in (301, 302, 303, 307, 308) or not location:
                return response
            target = urljoin(url, location)
            if urlsplit(target).netloc != urlsplit(url).netloc:
                headers = {k: v for k, v in (headers or {}).items() if k != "Authorization"}
            url = target
        raise FetchError(f"more than {REDIRECTS} redirects from {url}")

    def _get_once(self, url: str, headers: Mapping[str, str] | None) -> Response:
        check_url(url, allow_private=self.settings.allow_private)
        try:
            with self.session.get(
                url,
                headers=dict(headers or {}),
                timeout=self.settings.timeout_seconds,
                stream=True,
                allow_redirects=False,
            ) as answer:
                body = _read(answer, self.settings.max_bytes)
                names = {k.lower(): v for k, v in answer.headers.items()}
                return Response(answer.status_code, names, body, url)
        except requests.RequestException as exc:
            raise FetchError(f"{urlsplit(url).netloc}: {type(exc).__name__}: {exc}") from None


def _read(answer: requests.Response, limit: int) -> bytes:
    declared = answer.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FetchError(f"the document is {int(declared)} bytes, over the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    for chunk in answer.iter_content(CHUNK):
        size += len(chunk)
        if size > limit:
            raise FetchError(f"the document is over the {limit}-byte limit (CERT_FEEDS_MAX_MB)")
        chunks.append(chunk)
    return b"".join(chunks)


def expect_ok(response: Response) -> bytes:
    """The body of a 200 answer; ``FetchError`` naming the status otherwise."""
    if response.status != 200:
        raise FetchError(f"{response.url} answered HTTP {response.status}")
    return response.body
