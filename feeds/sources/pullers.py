"""Which puller reads each kind of feed (:data:`PULLERS`, used by :mod:`feeds.sources.poll`):
STIX bundles at a URL (:mod:`feeds.sources.stixurl`), TAXII 2.1 collections
(:mod:`feeds.sources.taxii`, objects read by :func:`feeds.rules.stix.parse_objects`), MISP
feeds (:mod:`feeds.sources.mispfeed`) and CSV or text lists (:mod:`feeds.sources.blocklists`).
``file`` feeds are only imported by hand."""

from __future__ import annotations

import functools

from feeds.models import FeedKind
from feeds.rules.stix import parse_objects
from feeds.sources.blocklists import pull_list
from feeds.sources.mispfeed import pull_misp_feed
from feeds.sources.pulling import Puller
from feeds.sources.stixurl import pull_stix_url
from feeds.sources.taxii import pull_taxii

PULLERS: dict[FeedKind, Puller] = {
    FeedKind.STIX_URL: pull_stix_url,
    FeedKind.TAXII: functools.partial(pull_taxii, parse=parse_objects),
    FeedKind.MISP_FEED: pull_misp_feed,
    FeedKind.CSV: pull_list,
}
