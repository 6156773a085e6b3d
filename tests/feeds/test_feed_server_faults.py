"""A TAXII feed server answering errors and truncated pages, on both databases: a loopback HTTP
server in front of OASIS medallion that answers 503 for one objects page, or sends one cut short
(its real status and headers, half its body). The pages stored before the fault stay, the
checkpoint stays at the last stored page, and the next poll resumes from it: nothing lost,
nothing imported twice (issue 24, "Faults")."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from sqlalchemy.orm import Session

from core.identity.models import User
from feeds.models import RunStatus
from feeds.rules.records import NotThatKind
from feeds.sources.fetch import RequestsHttp
from feeds.sources.mispfeed import read_manifest
from tests.feeds.test_taxii_poll import (  # noqa: F401, F811  (fixtures)
    _date_added,
    _feed,
    _indicators,
    _poll,
    http,
    secret,
    taxii,
)
from tests.kit.taxii import MEDIA, Taxii


@dataclass
class Faults:
    """What the n-th objects page (from 1, counted across polls) answers: ``"503"``,
    ``"truncated"`` or ``"bomb"`` (JSON nested 200,000 deep); any other page is the real
    server's answer."""

    plan: dict[int, str] = field(default_factory=dict)
    pages: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def faulty_front(upstream: int, faults: Faults) -> Iterator[str]:
    """A loopback HTTP server forwarding GETs to ``upstream``, with ``faults``; its base URL."""

    class Front(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's hook name)
            fault = None
            if "/objects/" in self.path:
                with faults.lock:
                    faults.pages += 1
                    fault = faults.plan.get(faults.pages)
            if fault == "bomb":  # nested past any parser's stack, 400 kB
                self._send(200, {"Content-Type": MEDIA}, b"[" * 200_000 + b"]" * 200_000)
                return
            if fault == "503":
                self._send(503, {"Content-Type": "text/plain"}, b"Service Unavailable")
                return
            keep = {"Authorization", "Accept"}
            answer = requests.get(
                f"http://127.0.0.1:{upstream}{self.path}",
                headers={k: v for k, v in self.headers.items() if k in keep},
                timeout=30,
            )
            body = answer.content[: len(answer.content) // 2] if fault else answer.content
            headers = {k: v for k, v in answer.headers.items() if k.lower().startswith("x-taxii")}
            self._send(
                answer.status_code,
                {**headers, "Content-Type": answer.headers["Content-Type"]},
                body,
            )

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Front)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # the API root (the discovery document names medallion's own address, and credentials
        # never leave the feed's host)
        yield f"http://127.0.0.1:{server.server_address[1]}/intel/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.slow
@pytest.mark.usefixtures("secret")
def test_errors_and_truncated_pages_keep_the_checkpoint_and_the_poll_resumes(
    db_session: Session,
    lead: User,
    taxii: Taxii,  # noqa: F811
    http: RequestsHttp,  # noqa: F811
) -> None:
    faults = Faults(plan={3: "503", 4: "truncated"})
    with faulty_front(taxii.port, faults) as url:
        feed = _feed(db_session, lead, url)
        broken = _poll(db_session, feed, http)  # pages 1 and 2 stored, the 3rd is a 503
        assert broken.status is RunStatus.PARTIAL, broken.error
        assert broken.error is not None and "503" in broken.error
        assert (broken.new, feed.checkpoint) == (100, _date_added(99))

        cut = _poll(db_session, feed, http)  # the resumed run's first page comes back cut short
        assert cut.status is RunStatus.FAILED
        assert cut.error is not None and "cut short" in cut.error
        assert (cut.new, feed.checkpoint) == (0, _date_added(99)), "the checkpoint is kept"
        assert _indicators(db_session, feed) == 100

        resumed = _poll(db_session, feed, http)
        assert (resumed.status, resumed.new, resumed.unchanged) == (RunStatus.SUCCEEDED, 20, 0)
        assert resumed.checkpoint_before == _date_added(99)
        assert _indicators(db_session, feed) == 120
        again = _poll(db_session, feed, http)
        assert (again.status, again.new) == (RunStatus.SUCCEEDED, 0)
    assert faults.pages == 6  # 2 stored, the 503, the cut one, the last 20, the empty check


@pytest.mark.slow
@pytest.mark.usefixtures("secret")
def test_a_json_bomb_page_fails_the_run_clearly_and_keeps_the_checkpoint(
    db_session: Session,
    lead: User,
    taxii: Taxii,  # noqa: F811
    http: RequestsHttp,  # noqa: F811
) -> None:
    faults = Faults(plan={2: "bomb"})
    with faulty_front(taxii.port, faults) as url:
        feed = _feed(db_session, lead, url)
        broken = _poll(db_session, feed, http)  # page 1 stored, page 2 a bomb
        assert broken.status is RunStatus.PARTIAL, broken.error
        assert broken.error is not None and "not a TAXII answer" in broken.error
        assert (broken.new, feed.checkpoint) == (50, _date_added(49))
        resumed = _poll(db_session, feed, http)
        assert (resumed.status, resumed.new) == (RunStatus.SUCCEEDED, 70)
        assert _indicators(db_session, feed) == 120


def test_a_misp_manifest_nested_past_the_stack_is_not_a_misp_feed() -> None:
    with pytest.raises(NotThatKind, match="nested too deeply"):
        read_manifest(b'{"a":' * 200_000 + b"1" + b"}" * 200_000)
