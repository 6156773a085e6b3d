"""Which puller reads each kind of feed (:data:`PULLERS`, used by :mod:`feeds.sources.poll`)."""

from __future__ import annotations

import functools

from feeds.models import FeedKind
from feeds.rules.stix import parse_objects
from feeds.sources.pulling import Puller
from feeds.sources.taxii import pull_taxii

PULLERS: dict[FeedKind, Puller] = {
    FeedKind.TAXII: functools.partial(pull_taxii, parse=parse_objects),
}
