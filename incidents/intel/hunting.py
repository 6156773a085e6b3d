"""The retro-hunt's matching in memory (pure module: no DB).

The retro-hunt (:mod:`incidents.intel.retrohunt`) matches the observables of recent incidents
against the indicators a feed run just added or changed. Exact values are joined in SQL (the
``(value, type)`` index of the observables); the other ways of matching — an address inside a
new network, a domain under a new parent domain, a URL whose host is a new domain or address —
are found here, with the keys of :func:`feeds.rules.keys.lookup_keys` (the same rules as
:func:`feeds.index.lookup.match_observables`, never a copy): each observable's keys are looked
up in the set of new values. An address's networks are enumerated only for the prefix lengths
the new networks have (one or two, not 24).

When an observable meets an indicator in several ways, the strongest reason is kept, in the
order of the index's lookup: exact, network, URL host, parent domain.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from feeds.rules.keys import Why, lookup_keys
from feeds.rules.observables import ObservableType

ADDRESSES = (ObservableType.IPV4.value, ObservableType.IPV6.value)
DOMAIN = ObservableType.DOMAIN.value
URL = ObservableType.URL.value
STRENGTH = {Why.EXACT: 0, Why.NETWORK: 1, Why.URL_HOST: 2, Why.PARENT_DOMAIN: 3}


@dataclass(frozen=True, slots=True)
class Seen:
    """An observable of an incident of the window."""

    observable_id: int
    incident_id: int
    type: str
    value: str


@dataclass(frozen=True, slots=True)
class Hit:
    """``observable_id`` (of ``incident_id``) met ``indicator_id`` through the stored
    ``matched`` value, for ``why``."""

    observable_id: int
    incident_id: int
    indicator_id: int
    matched: str
    why: Why


class NewValues:
    """The index values of the indicators a run changed: ``(kind, value)`` → indicator ids."""

    def __init__(self, rows: Iterable[tuple[int, str, str]]) -> None:
        self.ids: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.prefixes: set[int] = set()
        self.kinds: set[str] = set()
        for indicator_id, kind, value in rows:
            self.ids[(kind, value)].append(indicator_id)
            self.kinds.add(kind)
            if kind in ADDRESSES and "/" in value:
                self.prefixes.add(int(value.rsplit("/", 1)[1]))

    def __len__(self) -> int:
        return len(self.ids)

    def indirect_types(self) -> list[str]:
        """The observable types that may meet these values other than exactly: addresses when
        there are new networks, domains when there are new domains, URLs when there are new
        domains or addresses (their hosts)."""
        wanted: set[str] = set()
        if self.prefixes:
            wanted.update(kind for kind in ADDRESSES if kind in self.kinds)
        if DOMAIN in self.kinds:
            wanted.add(DOMAIN)
        if self.kinds & {DOMAIN, *ADDRESSES}:
            wanted.add(URL)
        return sorted(wanted)


def indirect(values: NewValues, observables: Iterable[Seen]) -> Iterator[Hit]:
    """The hits of ``observables`` on ``values`` other than exact (networks, parent domains,
    URL hosts); exact hits come from SQL."""
    prefixes = values.prefixes
    for seen in observables:
        try:
            keys = lookup_keys(seen.type, seen.value, prefixes=prefixes)
        except ValueError:  # a stored value the rules no longer read: it matches nothing
            continue
        for key in keys:
            if key.why is Why.EXACT:
                continue
            for indicator_id in values.ids.get((key.kind, key.value), ()):
                yield Hit(seen.observable_id, seen.incident_id, indicator_id, key.value, key.why)


def strongest(hits: Iterable[Hit]) -> list[Hit]:
    """One hit per (observable, indicator): the strongest reason; ordered by incident, then
    observable, then indicator."""
    best: dict[tuple[int, int], Hit] = {}
    for hit in hits:
        pair = (hit.observable_id, hit.indicator_id)
        known = best.get(pair)
        if known is None or STRENGTH[hit.why] < STRENGTH[known.why]:
            best[pair] = hit
    return sorted(best.values(), key=lambda h: (h.incident_id, h.observable_id, h.indicator_id))
