"""Polling a text or CSV blocklist at a URL (use case, Flask-free).

One GET of the feed's URL, parsed with the feed's ``value_type``, ``column`` (1 when unset)
and ``delimiter`` (:func:`feeds.rules.blocklist.parse_list`), yielded as one snapshot page:
the poll then expires the feed's indicators the list no longer holds
(:func:`feeds.index.snapshot.expire_absent`).
"""

from __future__ import annotations

from collections.abc import Iterator

from feeds.models import Feed
from feeds.rules.blocklist import decode_list, parse_list
from feeds.sources.fetch import FetchError, Http, credentials, expect_ok
from feeds.sources.pulling import Pulled


def pull_list(feed: Feed, http: Http) -> Iterator[Pulled]:
    """The feed's whole list, as one snapshot page."""
    if not feed.url:
        raise FetchError(f"the feed {feed.name} has no URL")
    body = expect_ok(http.get(feed.url, credentials(feed.username, feed.password_env)))
    parsed = parse_list(
        decode_list(body),
        value_type=feed.value_type,
        column=feed.column or 1,
        delimiter=feed.delimiter,
    )
    yield Pulled(parsed, checkpoint=feed.checkpoint, document=feed.url, snapshot=True)
