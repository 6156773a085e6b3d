"""The one filter language of incident lists: the queue page, its CSV export, saved filters and
``GET /api/v1/incidents`` all read their query arguments into :class:`QueueFilter` (Flask-free).

:meth:`QueueFilter.from_args` accepts a ``MultiDict`` (``getlist``), or a mapping of strings or
lists of strings (saved filters, tests); for list filters, repeated keys and comma-separated values
both give lists. Bad values raise ``ValidationFailed`` naming each bad field. The pages ignore
unknown keys and empty values (a bookmarked URL keeps working, an untouched ``<select>`` sends
``sla=``); the API is ``strict``: an unknown parameter or an empty value is an error too.

It is a pydantic model so that the OpenAPI document describes exactly this grammar: each field's
``before`` validator *is* its parser (the functions below), and the field's type and description
become the documented query parameter.

``has_match`` (CERT staff only) keeps the incidents with (``true``) or without (``false``) a
threat-intelligence sighting (:mod:`incidents.intel`): an ``EXISTS`` on ``incident_matches`` by
its ``incident_id`` index.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from core import inputs
from core.errors import ValidationFailed
from core.markings import Tlp, parse_tlp
from incidents.intake.schemas import AwareDateTime, Choices, rsit_type_ids
from incidents.models import IncidentStatus
from incidents.rules.taxonomy import rsit_classes

OPEN = "open"
PRIORITIES = ("P1", "P2", "P3", "P4")
SLA_STATES = ("due_soon", "breached")
SORTS = ("received", "priority", "status", "sla", "organisation", "reference")
DEFAULT_SORT = "-received"
DEFAULT_DUE_WITHIN = 24  # hours: "due soon"
MAX_Q = 200
MAX_CURSOR = 500
EMPTY = "empty; give a value or leave the parameter out"
_SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
_CURSOR = r"^[A-Za-z0-9_=-]+$"
_LISTS = ("status", "category", "type", "priority", "organisation", "sector", "centre", "tlp")
_REFUSED: dict[str, str] = {}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _statuses() -> list[str]:
    return [OPEN, *(s.value for s in IncidentStatus)]


def _sort_names() -> list[str]:
    return [name for key in SORTS for name in (key, f"-{key}")]


StatusName = Annotated[str, Choices(_statuses)]
ClassId = Annotated[str, Choices(rsit_classes)]
TypeId = Annotated[str, Choices(rsit_type_ids)]
PriorityName = Annotated[str, Choices(lambda: PRIORITIES)]
TlpName = Annotated[str, Choices(lambda: [t.value for t in Tlp])]
Slug = Annotated[str, StringConstraints(pattern=_SLUG)]
Sector = Annotated[str, StringConstraints(min_length=1, max_length=64)]
SortName = Annotated[str, Choices(_sort_names)]
Token = Annotated[str, StringConstraints(pattern=_CURSOR, max_length=MAX_CURSOR)]
LIST = "Repeat the parameter or separate values with commas; any of them matches"


class QueueFilter(BaseModel):
    """Filters and sort of an incident list; every filter given must match (AND)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_Q,
        description="Full-text search; every word must match a word (or the start of one) of "
        "the reference, title or description, part of an observable's value (3 characters or "
        "more) or the start of a reference. Words are searched for, never query syntax",
    )
    status: tuple[StatusName, ...] = Field(
        default=(), description=f"`open` is new, triaged and in progress. {LIST}"
    )
    category: tuple[ClassId, ...] = Field(default=(), description=f"RSIT class id. {LIST}")
    type: tuple[TypeId, ...] = Field(default=(), description=f"RSIT type id. {LIST}")
    priority: tuple[PriorityName, ...] = Field(default=(), description=LIST)
    organisation: tuple[Slug, ...] = Field(
        default=(),
        description=f"Organisation slug (reporters only ever see their own). {LIST}",
    )
    sector: tuple[Sector, ...] = Field(
        default=(), description=f"Sector of the reporting organisation. {LIST}"
    )
    centre: tuple[Slug, ...] = Field(
        default=(),
        description="Vigilance centre slug (`national`, `health`…): the incidents the centre "
        "answers for; a centre unknown is a 422, a centre you are not in shows only what you "
        f"may see of it (often nothing). {LIST}",
    )
    assignee: str | None = Field(
        default=None,
        min_length=1,
        max_length=254,
        description="CERT staff only: `me`, `none` (unassigned), an analyst's e-mail or user id",
    )
    tlp: tuple[TlpName, ...] = Field(
        default=(), description=f"TLP 2.0 label, any case; `red` for TLP:RED. {LIST}"
    )
    sla: Literal["due_soon", "breached"] | None = Field(
        default=None,
        description="`breached`: acknowledgement or resolution overdue; `due_soon`: due within "
        "`due_within` hours",
    )
    due_within: int = Field(
        default=DEFAULT_DUE_WITHIN, ge=1, le=720, description="Hours of `sla=due_soon`"
    )
    received_from: dt.date | None = Field(
        default=None, description="First day received (the CERT's time zone), inclusive"
    )
    received_to: dt.date | None = Field(
        default=None, description="Last day received (the CERT's time zone), inclusive"
    )
    received_after: AwareDateTime | None = Field(
        default=None, description="Inclusive; with an offset, from 1970 to 2200"
    )
    received_before: AwareDateTime | None = Field(
        default=None,
        description="Exclusive; with an offset, from 1970 to 2200; must be later than "
        "received_after (else 422)",
    )
    has_match: bool | None = Field(
        default=None,
        description="CERT staff only: `true` keeps the incidents an indicator of the feeds "
        "matched (a sighting), `false` those without one",
    )
    sort: SortName = Field(
        default=DEFAULT_SORT,
        description="received, priority, status, sla (next due date), organisation or "
        "reference; a leading `-` for descending. Ties are broken by creation order",
    )
    after: Token | None = Field(
        default=None, description="Keyset cursor: the page after (from a `next` link)"
    )
    before: Token | None = Field(
        default=None, description="Keyset cursor: the page before (from a `previous` link)"
    )

    @field_validator("*", mode="before")
    @classmethod
    def _parse(cls, value: Any, info: ValidationInfo) -> Any:
        """The field's parser on its raw values (strings, as a query string brings them)."""
        name = info.field_name or ""
        return _PARSERS[name](_strings(value, name))

    @classmethod
    def from_args(cls, args: Mapping[str, Any], *, strict: bool = False) -> QueueFilter:
        """The filter of query arguments; ``ValidationFailed`` naming every bad argument.
        ``strict`` (the API): unknown arguments and empty values are errors too."""
        errors: dict[str, str] = {}
        raw: dict[str, list[str]] = {}
        for name in list(args):
            given = _getlist(args, name)
            items = list(given) if isinstance(given, list | tuple) else [given]
            if name in _REFUSED:
                errors[name] = _REFUSED[name]
            elif name not in cls.model_fields:
                if strict:
                    errors[name] = "unknown parameter"
            elif strict and any(item is None or not str(item).strip() for item in items):
                errors[name] = EMPTY
            elif values := _strings(items, name):
                raw[name] = values
        try:
            result = cls.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                field = str(error["loc"][0]) if error["loc"] else "query"
                errors.setdefault(field, error["msg"].removeprefix("Value error, "))
            raise ValidationFailed("invalid filter", fields=errors) from None
        errors |= result._conflicts()
        if errors:
            raise ValidationFailed("invalid filter", fields=errors)
        return result

    def _conflicts(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.received_from and self.received_to and self.received_from > self.received_to:
            errors["received_to"] = "must not be before received_from"
        after, before = self.received_after, self.received_before
        if after is not None and before is not None and before <= after:
            errors["received_before"] = "must be later than received_after"
        if self.after and self.before:
            errors["before"] = "give after or before, not both"
        return errors

    def to_args(self) -> dict[str, list[str]]:
        """Non-default fields as query arguments (``from_args(to_args())`` gives it back)."""
        args: dict[str, list[str]] = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if value == field.default:
                continue
            if isinstance(value, tuple):
                args[name] = list(value)
            elif isinstance(value, dt.date):  # datetimes too: isoformat keeps their offset
                args[name] = [value.isoformat()]
            elif isinstance(value, bool):
                args[name] = ["true" if value else "false"]
            else:
                args[name] = [str(value)]
        return args

    def without_cursor(self) -> QueueFilter:
        return self.model_copy(update={"after": None, "before": None})

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


# ---------------------------------------------------------------- raw values
def _getlist(args: Mapping[str, Any], name: str) -> Any:
    getlist = getattr(args, "getlist", None)
    return getlist(name) if callable(getlist) else args.get(name)


def _strings(raw: Any, name: str) -> list[str]:
    """Raw values as stripped strings, empty ones left out; list filters' comma-separated
    values split."""
    if raw is None:
        return []
    items = list(raw) if isinstance(raw, list | tuple) else [raw]
    out: list[str] = []
    for item in items:
        text = item.isoformat() if isinstance(item, dt.date) else str(item)
        parts = text.split(",") if name in _LISTS else [text]
        out.extend(p.strip() for p in parts)
    return [p for p in out if p]


# ---------------------------------------------------------------- parsers (one per field)
def _one(raw: list[str]) -> str:
    if len(raw) > 1:
        raise ValueError("give one value")
    if not raw or not raw[0]:
        raise ValueError(EMPTY)
    return raw[0]


def _choices(
    allowed: Callable[[], Iterable[str]], what: str, fold: Callable[[str], str] = str.lower
) -> Callable[[list[str]], tuple[str, ...]]:
    def parse(raw: list[str]) -> tuple[str, ...]:
        valid = tuple(allowed())
        values = [fold(v) for v in raw]
        bad = [v for v in values if v not in valid]
        if bad:
            raise ValueError(f"unknown {what} {bad[0]!r}; valid: {', '.join(valid)}")
        return tuple(dict.fromkeys(values))

    return parse


def _q(raw: list[str]) -> str | None:
    text = " ".join(_one(raw).split())
    if len(text) > MAX_Q:
        raise ValueError(f"at most {MAX_Q} characters")
    return text or None


def _identifiers(what: str, fold: bool = False) -> Callable[[list[str]], tuple[str, ...]]:
    def parse(raw: list[str]) -> tuple[str, ...]:
        values = [v.lower() for v in raw] if fold else raw
        bad = [v for v in values if not re.match(_SLUG, v)]
        if bad:
            raise ValueError(f"not {what} identifier: {bad[0]!r}")
        return tuple(dict.fromkeys(values))

    return parse


_slugs = _identifiers("an organisation")


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


def _sla(raw: list[str]) -> str:
    return _choices(lambda: SLA_STATES, "SLA state")([_one(raw)])[0]


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


def _flag(raw: list[str]) -> bool:
    value = _one(raw).lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("true or false")


def _cursor(raw: list[str]) -> str:
    value = _one(raw)
    if len(value) > MAX_CURSOR or not re.fullmatch(_CURSOR[1:-1], value):
        raise ValueError("not a page cursor of this list")
    return value


_PARSERS: dict[str, Callable[[list[str]], Any]] = {
    "q": _q,
    "status": _choices(_statuses, "status"),
    "category": _choices(rsit_classes, "RSIT class"),  # the taxonomy file, read on first use
    "type": _choices(rsit_type_ids, "RSIT type"),
    "priority": _choices(lambda: PRIORITIES, "priority", str.upper),
    "organisation": _slugs,
    "sector": _sectors,
    "centre": _identifiers("a centre", fold=True),  # slugs are lower case
    "assignee": _assignee,
    "tlp": _tlps,
    "sla": _sla,
    "due_within": _hours,
    "received_from": _date,
    "received_to": _date,
    "received_after": _one,  # then pydantic's datetime, with an offset (AwareDateTime)
    "received_before": _one,
    "has_match": _flag,
    "sort": _sort,
    "after": _cursor,
    "before": _cursor,
}
