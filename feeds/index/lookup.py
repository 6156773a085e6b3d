"""Matching observables against the indicator index (read side, Flask-free).

:func:`match_observables` takes canonical ``(kind, value)`` pairs and returns, for each, the live
indicators it meets and why (:class:`feeds.rules.keys.Why`): the keys of every observable are
computed once (:func:`feeds.rules.keys.lookup_keys`), deduplicated, and looked up by kind in
batches of at most :data:`BATCH` values per ``IN`` on the ``(kind, value)`` index, joined to the
indicators that are live — not revoked, detecting (MISP ``to_ids``), and not past
``valid_until`` at ``now``. Indicators are loaded once per call, whatever the number of
observables meeting them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from feeds.models import Indicator, IndicatorValue
from feeds.rules.keys import Key, Why, lookup_keys

BATCH = 500


@dataclass(frozen=True, slots=True)
class Match:
    """An observable met ``indicator`` through the stored ``matched`` value, for ``why``."""

    indicator: Indicator
    matched: str
    why: Why


def live(now: dt.datetime) -> list[ColumnElement[bool]]:
    """The conditions of an indicator that may match at ``now``."""
    return [
        Indicator.revoked.is_(False),
        Indicator.detect.is_(True),
        or_(Indicator.valid_until.is_(None), Indicator.valid_until > now),
    ]


def match_observables(
    session: Session, observables: Sequence[tuple[str, str]], *, now: dt.datetime
) -> list[list[Match]]:
    """For each ``(kind, value)`` in order, its matches (strongest reason first, then the
    indicator's confidence, highest first); an empty list when nothing matches."""
    keys_of = [lookup_keys(kind, value) for kind, value in observables]
    wanted: dict[str, set[str]] = defaultdict(set)
    for keys in keys_of:
        for key in keys:
            wanted[key.kind].add(key.value)
    hits = _hits(session, wanted, now)
    results: list[list[Match]] = []
    for keys in keys_of:
        results.append(_matches_of(keys, hits))
    return results


def _hits(
    session: Session, wanted: dict[str, set[str]], now: dt.datetime
) -> dict[tuple[str, str], list[Indicator]]:
    found: dict[tuple[str, str], list[Indicator]] = defaultdict(list)
    for kind, values in wanted.items():
        ordered = sorted(values)
        for start in range(0, len(ordered), BATCH):
            chunk = ordered[start : start + BATCH]
            rows = session.execute(
                select(IndicatorValue.value, Indicator)
                .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
                .where(IndicatorValue.kind == kind, IndicatorValue.value.in_(chunk), *live(now))
            ).all()
            for value, indicator in rows:
                found[(kind, value)].append(indicator)
    return found


_STRENGTH = {Why.EXACT: 0, Why.NETWORK: 1, Why.URL_HOST: 2, Why.PARENT_DOMAIN: 3}


def _matches_of(keys: list[Key], hits: dict[tuple[str, str], list[Indicator]]) -> list[Match]:
    best: dict[int, Match] = {}
    for key in keys:
        for indicator in hits.get((key.kind, key.value), ()):
            known = best.get(indicator.id)
            if known is None or _STRENGTH[key.why] < _STRENGTH[known.why]:
                best[indicator.id] = Match(indicator, key.value, key.why)
    return sorted(
        best.values(),
        key=lambda m: (_STRENGTH[m.why], -m.indicator.confidence, m.indicator.id),
    )
