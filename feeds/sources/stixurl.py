"""The ``stix-url`` puller: a STIX 2.1 bundle at an HTTP(S) URL (use case, Flask-free).

One GET (credentials from the feed's environment variable, the fetcher's limits and address
checks), one page. Not a snapshot: a STIX bundle states its indicators' versions, revocations and
validity itself, so an indicator absent from today's bundle is not expired by its absence.
"""

from __future__ import annotations

from collections.abc import Iterator

from feeds.models import Feed
from feeds.rules.stix import parse_bundle
from feeds.sources.fetch import FetchError, Http, credentials, expect_ok
from feeds.sources.pulling import Pulled

ACCEPT = "application/stix+json;version=2.1, application/json"


def pull_stix_url(feed: Feed, http: Http) -> Iterator[Pulled]:
    """The bundle at ``feed.url``, parsed (:class:`FetchError` or
    :class:`feeds.rules.records.NotThatKind` when it cannot be read)."""
    if not feed.url:
        raise FetchError(f"the feed {feed.name} has no URL")
    headers = {"Accept": ACCEPT, **credentials(feed.username, feed.password_env)}
    body = expect_ok(http.get(feed.url, headers))
    yield Pulled(parse_bundle(body), checkpoint=None, document=feed.url, snapshot=False)
