"""The HTTP client the pages and the API poll with (web adapters' helper)."""

from __future__ import annotations

from flask import current_app

from feeds.settings import FeedSettings
from feeds.sources.fetch import Http, RequestsHttp


def http_client() -> Http:
    """``app.extensions["feeds_http"]`` when a test put one there, else ``requests`` with the
    feed settings (``CERT_FEEDS_TIMEOUT``, ``CERT_FEEDS_MAX_MB``, ``CERT_FEEDS_ALLOW_PRIVATE``)."""
    given = current_app.extensions.get("feeds_http")
    if given is not None:
        client: Http = given
        return client
    settings = current_app.extensions.get("feeds")
    return RequestsHttp(settings if isinstance(settings, FeedSettings) else FeedSettings())
