"""Incident references ``<PREFIX>-<YYYY>-<NNNNNN>``: per year, gap-free and concurrency-safe.

The counter row is incremented with one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING``
inside the submitting transaction: concurrent submitters serialise on the counter row (row lock on
PostgreSQL, the single writer lock on SQLite), and a rolled-back submission rolls its number back
too, so numbers are never skipped nor reused.
"""

from __future__ import annotations

import re

from sqlalchemy import Integer, bindparam, text
from sqlalchemy.orm import Session

REFERENCE_RE = re.compile(r"^(?P<prefix>[A-Z0-9]{1,16})-(?P<year>\d{4})-(?P<seq>\d{6,})$")

_NEXT = text(
    "INSERT INTO incident_reference_counters (year, last) VALUES (:year, 1) "
    "ON CONFLICT (year) DO UPDATE SET last = incident_reference_counters.last + 1 "
    "RETURNING last"
).bindparams(bindparam("year", type_=Integer))


def next_reference(session: Session, prefix: str, year: int) -> str:
    """Allocate the next reference of ``year`` in the caller's transaction."""
    number = session.execute(_NEXT, {"year": year}).scalar_one()
    return format_reference(prefix, year, number)


def format_reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year:04d}-{number:06d}"


def looks_like_reference(value: str) -> bool:
    return REFERENCE_RE.match(value.strip().upper()) is not None
