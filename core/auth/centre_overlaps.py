"""Centres the routing rule cannot decide between (kernel, Flask-free): two centres equally
specific for some incident — both naming the same organisation, or the same sector, or the same
region, with the same classes (both none, or some class in common) — after which the rule picks
the lower slug (:func:`core.identity.centres.route`). The centres page and ``cert centres list``
warn about each such pair; nothing refuses them (a configuration being changed passes through
them)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.identity.centres import Constituency, constituencies
from core.identity.models import Organisation


@dataclass(frozen=True)
class Overlap:
    """``first`` and ``second`` (slugs, ``first`` < ``second``) are equally specific through
    ``kind`` (organisation, sector, region, or classes: two class specialists without a
    constituency) and ``value`` (an organisation slug, a sector, a region; for classes, the
    classes in common), for incidents of ``categories`` (the classes both specialise in; empty:
    every class). ``first`` wins such incidents."""

    first: str
    second: str
    kind: str
    value: str
    categories: tuple[str, ...]


def _classes_meet(a: Constituency, b: Constituency) -> tuple[bool, tuple[str, ...]]:
    """Whether the class levels tie for some incident, and the classes that do."""
    if not a.categories and not b.categories:
        return True, ()
    common = tuple(sorted(a.categories & b.categories))
    return bool(common), common


def equal_specificity(
    centres: Iterable[Constituency], organisation_slugs: dict[int, str]
) -> list[Overlap]:
    """Every pair of (non-national) centres equally specific for some incident, with why."""
    found: list[Overlap] = []
    others = sorted((c for c in centres if not c.is_national), key=lambda c: c.slug)
    for a, b in itertools.combinations(others, 2):
        meet, common = _classes_meet(a, b)
        if not meet:
            continue

        def add(
            kind: str,
            values: Iterable[str],
            a: Constituency = a,
            b: Constituency = b,
            common: tuple[str, ...] = common,
        ) -> None:
            for value in sorted(values):
                found.append(Overlap(a.slug, b.slug, kind, value, common))

        add(
            "organisation",
            (organisation_slugs.get(i, str(i)) for i in a.organisations & b.organisations),
        )
        add("sector", a.sectors & b.sectors)
        add("region", a.regions & b.regions)
        bare_a = not (a.organisations or a.sectors or a.regions)
        bare_b = not (b.organisations or b.sectors or b.regions)
        if bare_a and bare_b and common:
            add("classes", [", ".join(common)])
    return found


def overlaps(session: Session) -> list[Overlap]:
    """:func:`equal_specificity` of every centre of the database (three queries)."""
    centres = constituencies(session)
    named = {i for c in centres for i in c.organisations}
    slugs: dict[int, str] = {}
    if named:
        rows = session.execute(
            select(Organisation.id, Organisation.slug).where(Organisation.id.in_(named))
        )
        slugs = {row.id: row.slug for row in rows}
    return equal_specificity(centres, slugs)
