"""Bounded parsing of untrusted input, one rule per kind of value (kernel: Flask-free).

Every adapter that reads a number, an instant or free text from a request goes through these,
so that the edges answer the same clear 4xx everywhere instead of a 500 from the database or
the standard library:

* **Whole numbers** (:func:`whole_number`): ASCII digits only (``str.isdigit`` accepts ``²`` and
  ``١٠``), bounded before they reach SQL. Offsets stop at :data:`MAX_OFFSET`, row ids at
  :data:`MAX_ID` (PostgreSQL's ``integer``, the type of every id column: SQLAlchemy casts the
  bound value to it, so a larger one is an "out of range" error), HTML page numbers at
  :data:`MAX_PAGE`.
* **Instants** (:func:`instant`, :func:`day`): an offset is required, the value is converted to
  UTC (``0001-01-01T00:00:00+14:00`` has no UTC form: a clear error, not an ``OverflowError``)
  and must fall between :data:`EARLIEST` and :data:`LATEST`. A detection or report time
  (:func:`past_instant`) is moreover not in the future (:data:`CLOCK_SKEW` of tolerance) nor
  before :data:`EARLIEST_DETECTION`.
* **Text**: NUL characters are refused everywhere (PostgreSQL cannot store them; SQLite would),
  :func:`nul_path` finds one in parsed JSON; bidirectional controls, which can disguise a title
  or a file name (``invoice<U+202E>fdp.exe`` is shown as invoiceexe.pdf), are made visible by
  :func:`show_bidi`.
* **Page cursors** (:func:`cursor_token`, :func:`cursor_data`): opaque tokens a list gave out and
  reads back; anything a client makes of one fails with an exception of :data:`CURSOR_ERRORS`,
  which each list turns into its own 4xx.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from pydantic_core import ErrorDetails

from core.i18n import N_

MAX_OFFSET = 1_000_000_000  # list offsets (far above any real list; far below bigint)
MAX_ID = 2**31 - 1  # row ids, ``before`` cursors: every id column is a PostgreSQL integer
MAX_PAGE = 1_000_000  # ?page= of an HTML list
MAX_DIGITS = 19  # longer strings are refused before int() runs

EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # any instant given to Vigie
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)  # exclusive
EARLIEST_DETECTION = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)  # detected_at, reported_at
CLOCK_SKEW = dt.timedelta(minutes=15)  # a reporter's clock may run this far ahead

_START, _END = f"{EARLIEST:%Y-%m-%d}", f"{LATEST:%Y-%m-%d}"

NUL = "\x00"
NUL_MESSAGE = "must not contain NUL characters (\\u0000)"
# Bidirectional formatting characters (Unicode TR9): embeddings and overrides, isolates, marks.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
_SHOWN = {ord(char): f"\u27e8U+{ord(char):04X}\u27e9" for char in BIDI_CONTROLS}


def whole_number(raw: str, low: int, high: int) -> int:
    """``raw`` as an int in ``[low, high]``; ``ValueError`` naming the range otherwise."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_DIGITS:
        raise ValueError(N_("a whole number from %(low)d to %(high)d", low=low, high=high))
    value = int(text)
    if not low <= value <= high:
        raise ValueError(N_("a whole number from %(low)d to %(high)d", low=low, high=high))
    return value


def instant(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC, when it has an offset and lies in ``[EARLIEST, LATEST)``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(N_("must include a timezone offset, e.g. 2026-03-01T08:30:00+01:00 or …Z"))
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(N_("must be from %(start)s to %(end)s (UTC)", start=_START, end=_END))
    return utc


def past_instant(value: dt.datetime, now: dt.datetime) -> dt.datetime:
    """A detection or report time: an :func:`instant` neither in the future (beyond
    :data:`CLOCK_SKEW`) nor before :data:`EARLIEST_DETECTION`."""
    utc = instant(value)
    if utc > now + CLOCK_SKEW:
        raise ValueError(N_("must not be in the future"))
    if utc < EARLIEST_DETECTION:
        raise ValueError(N_("must not be before %(day)s", day=f"{EARLIEST_DETECTION:%Y-%m-%d}"))
    return utc


def day(value: dt.date) -> dt.date:
    """A calendar day of a filter, in the same range as :func:`instant`."""
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(N_("must be from %(start)s to %(end)s", start=_START, end=_END))
    return value


def nul_path(value: object, path: str = "") -> str | None:
    """Where parsed JSON holds a NUL character (in a key or a string), as ``a.b[2]``; or
    ``None``. The body itself is named ``body``."""
    if isinstance(value, str):
        return (path or "body") if NUL in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            shown = str(key).replace(NUL, "\\u0000")
            name = f"{path}.{shown}" if path else shown
            if NUL in str(key):
                return name
            if (found := nul_path(item, name)) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (found := nul_path(item, f"{path}[{index}]")) is not None:
                return found
    return None


def has_bidi(text: str) -> bool:
    return any(char in BIDI_CONTROLS for char in text)


def show_bidi(text: str) -> str:
    """Each bidirectional control of ``text`` replaced by a visible ``⟨U+202E⟩``: the text reads
    in its stored order and an analyst sees that the reporter's text carried the control."""
    return text.translate(_SHOWN)


def field_errors(errors: list[ErrorDetails], whole: str = "body") -> dict[str, str]:
    """pydantic errors → ``{"contact.email": …, "observables[2].value": …}`` (``whole`` for the
    body itself)."""
    fields: dict[str, str] = {}
    for error in errors:
        name = ""
        for part in error["loc"]:
            name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
        name = name or whole
        message = error["msg"].removeprefix("Value error, ")
        fields[name] = f"{fields[name]}; {message}" if name in fields else message
    return fields


# ---------------------------------------------------------------- page cursors
# what decoding a token a client altered may raise (bad base64, bytes that are not UTF-8, JSON
# that is not, the wrong shape, nesting deep enough to exhaust the parser)
CURSOR_ERRORS = (
    binascii.Error,
    UnicodeDecodeError,
    ValueError,
    KeyError,
    TypeError,
    RecursionError,
)


def cursor_token(data: object) -> str:
    """A page cursor: ``data`` as compact JSON in unpadded URL-safe base64."""
    raw = json.dumps(data, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_data(token: str) -> Any:
    """What :func:`cursor_token` encoded (an exception of :data:`CURSOR_ERRORS` if it is not
    one): the caller checks its shape and bounds."""
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
