"""A slow TAXII server for fail-over tests: a loopback proxy in front of medallion
(:mod:`tests.kit.taxii`) that holds each page of objects for ``delay`` seconds and records what
it was asked, so that a poll lasts long enough for its scheduler to be killed in the middle."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

PASSED_ON = ("content-type", "x-taxii-date-added-first", "x-taxii-date-added-last")


@dataclass
class SlowTaxii:
    upstream: str  # medallion's http://127.0.0.1:PORT
    delay: float
    base: str = ""
    pages: list[dict[str, list[str]]] = field(default_factory=list)  # objects queries served
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_root(self) -> str:
        return f"{self.base}/intel/"

    def objects_pages(self) -> list[dict[str, list[str]]]:
        with self.lock:
            return list(self.pages)


def _handler(slow: SlowTaxii) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            parts = urlsplit(self.path)
            if parts.path.endswith("/objects/"):
                time.sleep(slow.delay)  # the slow part: a page of objects
            headers = {
                k: v for k, v in self.headers.items() if k.lower() in ("accept", "authorization")
            }
            answer = requests.get(slow.upstream + self.path, headers=headers, timeout=60)
            if parts.path.endswith("/objects/") and answer.status_code == 200:
                with slow.lock:
                    slow.pages.append(parse_qs(parts.query))
            self.send_response(answer.status_code)
            for name in PASSED_ON:
                if name in answer.headers:
                    self.send_header(name, answer.headers[name])
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            try:
                self.wfile.write(answer.content)
            except BrokenPipeError:  # the poller was killed while this page was held
                return

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    return Handler


@contextmanager
def slow_taxii(upstream: str, delay: float) -> Iterator[SlowTaxii]:
    slow = SlowTaxii(upstream.rstrip("/"), delay)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(slow))
    slow.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield slow
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
