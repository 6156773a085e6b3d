"""What reading a source yields, page by page (types shared by every kind of source).

A puller reads one feed and yields :class:`Pulled` pages: each holds what a parser made of one
document (a STIX bundle, a TAXII page, a MISP event, a blocklist) and the checkpoint reached once
it is stored, so that the poll stores and commits page by page and resumes from the last stored
checkpoint after a failure or a truncated page (never re-importing everything).

``snapshot``: the page is the source's whole current list (a blocklist, a STIX bundle at a URL):
the feed's indicators absent from it expire (``valid_until`` set to the poll's time, counted
``expired``); they revive if they come back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from feeds.models import Feed
from feeds.rules.records import Parsed
from feeds.sources.fetch import Http


@dataclass
class Pulled:
    parsed: Parsed
    checkpoint: str | None = None  # the feed's checkpoint once this page is stored
    document: str | None = None  # what was read (URL, file name), for the run's report
    snapshot: bool = False


Puller = Callable[[Feed, Http], Iterator[Pulled]]
"""``puller(feed, http)``: read ``feed`` from its ``checkpoint`` on; raise
:class:`feeds.sources.fetch.FetchError` (or :class:`feeds.rules.records.NotThatKind`) when the
source cannot be read — pages already yielded stay stored."""
