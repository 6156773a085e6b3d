"""Bulletin references (pure): ``<PREFIX>-<TYPE>-<YEAR>-<NNNN>``, e.g. ``MACERT-AVI-2026-0042``
(the prefix is ``CERT_REFERENCE_PREFIX``; TYPE ``AVI`` advisory, ``ALE`` alert, ``NOT`` note,
``DIG`` digest; four digits at least, more past 9999)."""

from __future__ import annotations

import re

from bulletins.models import BulletinKind

PATTERN = re.compile(
    r"^(?P<prefix>[A-Z0-9]+)-(?P<code>AVI|ALE|NOT|DIG)-(?P<year>\d{4})-(?P<n>\d{4,})$"
)


def format_reference(prefix: str, kind: BulletinKind, year: int, number: int) -> str:
    if number < 1:
        raise ValueError("bulletin numbers start at 1")
    return f"{prefix}-{kind.code}-{year:04d}-{number:04d}"


def parse_reference(reference: str) -> tuple[str, BulletinKind, int, int]:
    """(prefix, kind, year, number) of a reference; ``ValueError`` when it is not one."""
    match = PATTERN.match(reference.strip().upper())
    if match is None:
        raise ValueError(f"{reference!r} is not a bulletin reference (PREFIX-AVI-2026-0042)")
    kind = next(k for k in BulletinKind if k.code == match["code"])
    return match["prefix"], kind, int(match["year"]), int(match["n"])
