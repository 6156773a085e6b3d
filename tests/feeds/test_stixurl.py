"""The ``stix-url`` puller (:func:`feeds.sources.stixurl.pull_stix_url`) against a real HTTP
server on loopback: the bundle parsed (not a snapshot), credentials sent from the environment,
and the failures that name their cause."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.markings import Tlp
from feeds.models import Feed, FeedKind
from feeds.rules.records import IndexValue, NotThatKind
from feeds.settings import FeedSettings
from feeds.sources.fetch import FetchError, RequestsHttp
from feeds.sources.stixurl import pull_stix_url
from tests.feeds.stixdata import bundle, indicator

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
HTTP = RequestsHttp(FeedSettings(allow_private=True, timeout_seconds=5))


@dataclass
class Site:
    url: str
    pages: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    seen: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            state.seen.append(dict(self.headers.items()))
            status, body = state.pages.get(self.path, (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def _feed(url: str, **extra: object) -> Feed:
    return Feed(
        name="partner",
        kind=FeedKind.STIX_URL,
        url=url,
        default_tlp=Tlp.GREEN,
        created_at=NOW,
        **extra,
    )


def test_the_bundle_at_the_url_is_one_page_not_a_snapshot(site: Site) -> None:
    site.pages["/intel.json"] = (200, bundle(indicator("[ipv4-addr:value = '198.51.100.7']")))
    (page,) = pull_stix_url(_feed(site.url + "/intel.json"), HTTP)
    assert page.snapshot is False and page.document == site.url + "/intel.json"
    assert page.parsed.indicators[0].values == (IndexValue("ipv4", "198.51.100.7"),)
    assert "application/stix+json" in site.seen[0]["Accept"]
    assert "Authorization" not in site.seen[0]


def test_credentials_come_from_the_named_variable(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.pages["/intel.json"] = (200, bundle())
    monkeypatch.setenv("PARTNER_TOKEN", "t0ken")
    feed = _feed(site.url + "/intel.json", password_env="PARTNER_TOKEN")
    list(pull_stix_url(feed, HTTP))
    assert site.seen[0]["Authorization"] == "Bearer t0ken"
    monkeypatch.delenv("PARTNER_TOKEN")
    with pytest.raises(FetchError, match="PARTNER_TOKEN"):
        list(pull_stix_url(feed, HTTP))


def test_failures_name_their_cause(site: Site) -> None:
    site.pages["/login"] = (200, b"<html><form>Sign in</form></html>")
    with pytest.raises(FetchError, match="answered HTTP 404"):
        list(pull_stix_url(_feed(site.url + "/missing.json"), HTTP))
    with pytest.raises(NotThatKind, match="an HTML or XML page"):
        list(pull_stix_url(_feed(site.url + "/login"), HTTP))
    with pytest.raises(FetchError, match="has no URL"):
        list(pull_stix_url(_feed(""), HTTP))
    private = RequestsHttp(FeedSettings(allow_private=False))
    with pytest.raises(FetchError, match="private or reserved address"):
        list(pull_stix_url(_feed(site.url + "/intel.json"), private))
