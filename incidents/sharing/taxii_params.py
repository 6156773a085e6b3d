"""TAXII 2.1 requests, read (pure): media types, query parameters and the ``next`` token.

* ``Accept`` must name ``application/taxii+json`` (``version=2.1``, or no version): else 406.
* Parameters: ``added_after``, ``limit`` (1–:data:`MAX_LIMIT`, capped silently above it as the
  standard allows), ``next``, ``match[type]``, ``match[id]``, ``match[version]`` (``last``,
  ``first``, ``all`` or timestamps; ``last`` by default), ``match[spec_version]``;
  comma-separated lists. Anything else, or a malformed value, is a 400 naming the parameter.
* ``next`` is an opaque keyset token: where the last page stopped in the collection's order
  (date added, then the object's source, then its row). It carries no filter and no permission:
  the filters are sent again with it and the reader's rights are applied again, so a forged
  token can only move the starting point.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from core import inputs

TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
KNOWN = frozenset(
    {
        "added_after",
        "limit",
        "next",
        "match[type]",
        "match[id]",
        "match[version]",
        "match[spec_version]",
    }
)
EDGES = frozenset({"last", "first", "all"})  # match[version] keywords
LAST = frozenset({"last"})  # the default: each object's latest version


class BadParameter(ValueError):
    """A query parameter Vigie cannot read: 400, naming it."""


def accepts_taxii(accept: str) -> bool:
    """Whether an ``Accept`` header lets the server answer TAXII 2.1 JSON."""
    for item in accept.split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        if kind.lower() != "application/taxii+json":
            continue
        version = [p.split("=", 1)[1].strip() for p in params if p.lower().startswith("version=")]
        if not version or version == ["2.1"]:
            return True
    return False


def parse_time(name: str, text: str) -> dt.datetime:
    """An RFC 3339 timestamp with a time zone (``Z`` or an offset), in UTC."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadParameter(f"{name}: {text!r} is not an RFC 3339 timestamp") from None
    if when.tzinfo is None:
        raise BadParameter(f"{name}: {text!r} has no time zone (end it with Z)")
    return when.astimezone(dt.UTC)


@dataclass(frozen=True)
class Cursor:
    """Where a page stopped: date added, source rank, row."""

    date_added: dt.datetime
    rank: int
    row: int

    def token(self) -> str:
        return inputs.cursor_token([self.date_added.isoformat(), self.rank, self.row])

    @classmethod
    def read(cls, token: str) -> Cursor:
        try:
            when, rank, row = inputs.cursor_data(token)
            date_added = dt.datetime.fromisoformat(when)
        except inputs.CURSOR_ERRORS:
            raise BadParameter("next: not a token this server gave") from None
        if date_added.tzinfo is None or not all(isinstance(n, int) for n in (rank, row)):
            raise BadParameter("next: not a token this server gave")
        return cls(date_added.astimezone(dt.UTC), rank, row)


@dataclass(frozen=True)
class Query:
    """The filters of one objects/manifest request (``None``: no filter of that kind)."""

    limit: int = DEFAULT_LIMIT
    added_after: dt.datetime | None = None
    after: Cursor | None = None
    types: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    versions: tuple[dt.datetime, ...] | None = None  # None: by ``edges``
    spec_ok: bool = True  # False: match[spec_version] excludes 2.1, hence everything
    # which versions of an object with several (published objects, e.g. a bulletin's report
    # revised): ``last``, ``first`` or ``all``; the others have exactly one
    edges: frozenset[str] = LAST

    def with_id(self, stix_id: str) -> Query:
        return replace(self, types=None, ids=frozenset({stix_id}))

    def every_version(self) -> Query:
        """``objects/<id>/versions/``: every version, whatever ``match[version]`` says."""
        return replace(self, versions=None, edges=frozenset({"all"}))


def _one(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = args.get(name, ())
    if len(values) > 1:
        raise BadParameter(f"{name}: give it once (a comma-separated list where lists are allowed)")
    if values and not values[0].strip():
        raise BadParameter(f"{name}: empty; give a value or leave the parameter out")
    return values[0] if values else None


def _list(args: Mapping[str, Sequence[str]], name: str) -> list[str] | None:
    text = _one(args, name)
    if text is None:
        return None
    return [item.strip() for item in text.split(",") if item.strip()]


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise BadParameter(f"limit: {text!r} is not a whole number of at least 1")
    return min(int(text), MAX_LIMIT)


def _versions(items: list[str] | None) -> tuple[dt.datetime, ...] | None:
    if items is None or any(item in EDGES for item in items):
        return None
    return tuple(parse_time("match[version]", item) for item in items)


def _edges(items: list[str] | None) -> frozenset[str]:
    if items is None:
        return LAST
    return frozenset(item for item in items if item in EDGES) or frozenset({"all"})


def parse_query(args: Mapping[str, Sequence[str]]) -> Query:
    """The filters of a request's query string (``args``: name → every value given)."""
    unknown = sorted(set(args) - KNOWN)
    if unknown:
        raise BadParameter(f"{unknown[0]}: not a parameter this server supports")
    added_after = _one(args, "added_after")
    token = _one(args, "next")
    types, ids = _list(args, "match[type]"), _list(args, "match[id]")
    specs, versions = _list(args, "match[spec_version]"), _list(args, "match[version]")
    return Query(
        limit=_limit(_one(args, "limit")),
        added_after=parse_time("added_after", added_after) if added_after else None,
        after=Cursor.read(token) if token else None,
        types=frozenset(types) if types is not None else None,
        ids=frozenset(ids) if ids is not None else None,
        versions=_versions(versions),
        spec_ok=specs is None or "2.1" in specs,
        edges=_edges(versions),
    )
