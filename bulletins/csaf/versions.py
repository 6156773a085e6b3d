"""CSAF version numbers (integer or semantic versioning, §3.1.11) and dates, compared (pure)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

INTEGER = re.compile(r"^(0|[1-9][0-9]*)$")
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
NumberKey = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


def is_integer(value: Any) -> bool:
    return isinstance(value, str) and INTEGER.match(value) is not None


def is_semver(value: Any) -> bool:
    return isinstance(value, str) and SEMVER.match(value) is not None


def without_build(value: str) -> str:
    return value.split("+", 1)[0]


def prerelease(value: str) -> str:
    """The pre-release part of a semantic version (``"1.0.0-rc.1"`` → ``"rc.1"``), else ``""``."""
    match = SEMVER.match(value)
    return (match[4] or "") if match else ""


def major(value: str) -> int:
    """The integer version, or the major of a semantic one; -1 when neither."""
    if INTEGER.match(value):
        return int(value)
    match = SEMVER.match(value)
    return int(match[1]) if match else -1


def number_key(value: Any) -> NumberKey:
    """A sort key for version numbers (pre-releases before their release, §11 of SemVer)."""
    text = str(value)
    if INTEGER.match(text):
        return (int(text), 0, 0, 1, ())
    match = SEMVER.match(text)
    if not match:
        return (-1, 0, 0, 0, ())
    pre = match[4]
    parts = tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in (pre or "").split(".") if pre
    )
    return (int(match[1]), int(match[2]), int(match[3]), 0 if pre else 1, parts)


def date_key(value: Any) -> dt.datetime:
    """An ISO 8601 date-time as an aware datetime (the earliest one when unreadable)."""
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return EARLIEST
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
