"""The prefix lengths of the stored networks (use case and read side, Flask-free).

:func:`note_prefixes` records, with the values the store writes, the prefix length of each
network (``indicator_prefixes``); :func:`stored_prefixes` reads them back for
:func:`feeds.index.lookup.match_observables`, which then probes an address's networks of those
lengths only: at 1,000,000 indicators, 1,000 observables cost ~9,600 network probes with every
length (bench/enrich.py), a few hundred with the lengths feeds actually use.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from feeds.models import IndicatorPrefix
from feeds.rules.records import IndicatorRecord


def prefixes_of(records: Iterable[IndicatorRecord]) -> set[tuple[str, int]]:
    """``(kind, prefix length)`` of every network value of ``records``."""
    found: set[tuple[str, int]] = set()
    for record in records:
        for value in record.values:
            if "/" in value.value and value.kind in ("ipv4", "ipv6"):
                found.add((value.kind, int(value.value.rsplit("/", 1)[1])))
    return found


def note_prefixes(session: Session, found: set[tuple[str, int]]) -> None:
    """Add the lengths not yet recorded (the table holds a few dozen rows at most)."""
    if not found:
        return
    rows = session.execute(select(IndicatorPrefix.kind, IndicatorPrefix.prefix))
    known = {(kind, prefix) for kind, prefix in rows}
    for kind, prefix in sorted(found - known):
        session.add(IndicatorPrefix(kind=kind, prefix=prefix))
    session.flush()


def stored_prefixes(session: Session) -> frozenset[int]:
    """Every recorded prefix length, IPv4 and IPv6 together (a superset for either kind)."""
    return frozenset(session.scalars(select(IndicatorPrefix.prefix).distinct()))
