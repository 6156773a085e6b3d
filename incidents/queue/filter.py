"""The queue's filter: parsed from (and written back to) bookmarkable query arguments (Flask-free).

``QueueFilter.from_args`` accepts a ``MultiDict`` (``getlist``), or a mapping of strings or lists
of strings (saved filters, tests); repeated keys and comma-separated values both give lists.
Unknown keys are ignored (a bookmarked URL keeps working), bad values raise
``ValidationFailed`` naming each bad field.

There is no ``has_match`` filter: threat-intelligence matches do not exist yet (a later issue
brings indicators); a filter with nothing behind it would be a lie.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core import inputs
from core.errors import ValidationFailed
from core.markings import parse_tlp
from incidents.models import IncidentStatus
from incidents.rules.taxonomy import rsit_classes

OPEN = "open"
PRIORITIES = ("P1", "P2", "P3", "P4")
SLA_STATES = ("due_soon", "breached")
SORTS = ("received", "priority", "status", "sla", "organisation", "reference")
DEFAULT_SORT = "-received"
DEFAULT_DUE_WITHIN = 24  # hours: "due soon"
MAX_Q = 200
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_LISTS = ("status", "category", "priority", "organisation", "sector", "tlp")


@dataclass(frozen=True)
class QueueFilter:
    q: str | None = None
    status: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    organisation: tuple[str, ...] = ()
    sector: tuple[str, ...] = ()
    assignee: str | None = None  # "me" | "none" | e-mail | user id
    tlp: tuple[str, ...] = ()
    sla: str | None = None
    due_within: int = DEFAULT_DUE_WITHIN
    received_from: dt.date | None = None
    received_to: dt.date | None = None  # inclusive
    sort: str = DEFAULT_SORT
    after: str | None = None  # keyset cursors (opaque, see incidents.queue.keyset)
    before: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> QueueFilter:
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for name, parse in _PARSERS.items():
            raw = _values(args, name)
            if not raw:
                continue
            try:
                values[name] = parse(raw)
            except ValueError as exc:
                errors[name] = str(exc)
        start, end = values.get("received_from"), values.get("received_to")
        if start and end and start > end:
            errors["received_to"] = "must not be before received_from"
        if values.get("after") and values.get("before"):
            errors["before"] = "give after or before, not both"
        if errors:
            raise ValidationFailed("invalid queue filter", fields=errors)
        return cls(**values)

    def to_args(self) -> dict[str, list[str]]:
        """Non-default fields as query arguments (``from_args(to_args())`` gives it back)."""
        args: dict[str, list[str]] = {}
        default = QueueFilter()
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value == getattr(default, field.name):
                continue
            if isinstance(value, tuple):
                args[field.name] = list(value)
            elif isinstance(value, dt.date):
                args[field.name] = [value.isoformat()]
            else:
                args[field.name] = [str(value)]
        return args

    def without_cursor(self) -> QueueFilter:
        return dataclasses.replace(self, after=None, before=None)

    def statuses(self) -> set[str]:
        """The statuses asked for, ``open`` expanded."""
        chosen = set(self.status)
        if OPEN in chosen:
            chosen.discard(OPEN)
            chosen |= {IncidentStatus.NEW, IncidentStatus.TRIAGED, IncidentStatus.IN_PROGRESS}
        return chosen

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")


def _values(args: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(args, "getlist", None)
    raw = getlist(name) if callable(getlist) else args.get(name)
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else list(raw)
    out: list[str] = []
    for item in items:
        parts = str(item).split(",") if name in _LISTS else [str(item)]
        out.extend(p.strip() for p in parts if p.strip())
    return out


def _one(raw: list[str]) -> str:
    if len(raw) > 1:
        raise ValueError("give one value")
    return raw[0]


def _choices(allowed: Iterable[str], what: str) -> Callable[[list[str]], tuple[str, ...]]:
    allowed = tuple(allowed)

    def parse(raw: list[str]) -> tuple[str, ...]:
        bad = [v for v in raw if v not in allowed]
        if bad:
            raise ValueError(f"unknown {what} {bad[0]!r}; valid: {', '.join(allowed)}")
        return tuple(dict.fromkeys(raw))

    return parse


def _categories(raw: list[str]) -> tuple[str, ...]:
    return _choices(rsit_classes(), "RSIT class")(raw)  # the taxonomy file, read on first use


def _q(raw: list[str]) -> str | None:
    text = " ".join(_one(raw).split())
    if len(text) > MAX_Q:
        raise ValueError(f"at most {MAX_Q} characters")
    return text or None


def _slugs(raw: list[str]) -> tuple[str, ...]:
    bad = [v for v in raw if not _SLUG.match(v)]
    if bad:
        raise ValueError(f"not an organisation identifier: {bad[0]!r}")
    return tuple(dict.fromkeys(raw))


def _sectors(raw: list[str]) -> tuple[str, ...]:
    if any(len(v) > 64 for v in raw):
        raise ValueError("at most 64 characters")
    return tuple(dict.fromkeys(raw))


def _tlps(raw: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(parse_tlp(v).value for v in raw))


def _assignee(raw: list[str]) -> str:
    value = _one(raw)
    if value in ("me", "none") or ("@" in value and len(value) <= 254):
        return value.lower() if "@" in value else value
    try:
        return str(inputs.whole_number(value, 1, inputs.MAX_ID))  # a user id, ASCII digits
    except ValueError:
        raise ValueError("me, none, a user's e-mail address or id") from None


def _date(raw: list[str]) -> dt.date:
    try:
        value = dt.date.fromisoformat(_one(raw))
    except ValueError:
        raise ValueError("a date as YYYY-MM-DD") from None
    return inputs.day(value)


def _sort(raw: list[str]) -> str:
    value = _one(raw)
    if value.lstrip("-") not in SORTS or value.startswith("--"):
        raise ValueError(f"one of {', '.join(SORTS)}, with a leading - for descending")
    return value


def _hours(raw: list[str]) -> int:
    try:
        return inputs.whole_number(_one(raw), 1, 24 * 30)
    except ValueError:
        raise ValueError("a number of hours from 1 to 720") from None


def _cursor(raw: list[str]) -> str:
    value = _one(raw)
    if len(value) > 500 or not re.fullmatch(r"[A-Za-z0-9_=-]+", value):
        raise ValueError("not a page cursor of this queue")
    return value


def _no_match_filter(raw: list[str]) -> str:
    raise ValueError("threat-intelligence matches are not available yet")


_PARSERS: dict[str, Callable[[list[str]], Any]] = {
    "q": _q,
    "status": _choices((OPEN, *(s.value for s in IncidentStatus)), "status"),
    "category": _categories,
    "priority": _choices(PRIORITIES, "priority"),
    "organisation": _slugs,
    "sector": _sectors,
    "assignee": _assignee,
    "tlp": _tlps,
    "sla": lambda raw: _choices(SLA_STATES, "SLA state")([_one(raw)])[0],
    "due_within": _hours,
    "received_from": _date,
    "received_to": _date,
    "sort": _sort,
    "after": _cursor,
    "before": _cursor,
    "has_match": _no_match_filter,
}
