"""A loopback HTTP server for feed documents (the real ``requests`` client reads it)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Served:
    """What the server serves (files of ``root``), what it breaks, and what it was asked."""

    root: Path
    base: str = ""
    failing: dict[str, int] = field(default_factory=dict)  # path → HTTP status to answer
    requests: list[str] = field(default_factory=list)  # paths, in order
    authorizations: list[str | None] = field(default_factory=list)


def _handler(served: Served) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(served.root), **kwargs)

        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            served.requests.append(self.path)
            served.authorizations.append(self.headers.get("Authorization"))
            status = served.failing.get(self.path)
            if status is not None:
                self.send_error(status)
                return
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    return Handler


@contextmanager
def serve(root: Path) -> Iterator[Served]:
    """Serve ``root`` on 127.0.0.1 (an ephemeral port) for the block."""
    served = Served(root)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
