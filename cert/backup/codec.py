"""Backend-neutral values: each column has a *kind* recorded in the manifest, and each value is
written as JSON by that kind (datetimes and dates in ISO 8601, bytes in base64, decimals as
text, JSON columns as JSON) and read back to the same Python value on any backend."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Float,
    LargeBinary,
    Numeric,
    String,
    Time,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from core.db import UtcDateTime

KINDS = ("plain", "float", "datetime", "date", "time", "bytes", "decimal", "json")


def column_kind(column: Column[Any]) -> str:
    """The kind of ``column``'s values (:data:`KINDS`)."""
    kind: TypeEngine[Any] = column.type
    if isinstance(kind, TypeDecorator) and not isinstance(kind, UtcDateTime):
        kind = kind.impl_instance
    if isinstance(kind, JSON):
        return "json"
    if isinstance(kind, UtcDateTime | DateTime):
        return "datetime"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, Time):
        return "time"
    if isinstance(kind, LargeBinary):
        return "bytes"
    if isinstance(kind, Float):
        return "float"
    if isinstance(kind, Numeric):
        return "decimal"
    return "plain"


def _iso(value: Any) -> Any:
    return None if value is None else value.isoformat()


def _base64(value: Any) -> Any:
    return None if value is None else base64.b64encode(bytes(value)).decode("ascii")


def _text(value: Any) -> Any:
    return None if value is None else str(value)


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, str) else value  # a StrEnum member as its value


_ENCODERS = {
    "datetime": _iso,
    "date": _iso,
    "time": _iso,
    "bytes": _base64,
    "decimal": _text,
    "plain": _plain,
}


def encoder(kind: str) -> Callable[[Any], Any]:
    """The function :func:`encode` applies for ``kind`` (one lookup per column, not per value)."""
    return _ENCODERS.get(kind, _same)


def _same(value: Any) -> Any:
    return value


def encode(kind: str, value: Any) -> Any:
    """``value`` (as the database driver and column type gave it) as a JSON value."""
    if value is None:
        return None
    if kind in ("datetime", "date", "time"):
        return value.isoformat()
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "decimal":
        return str(value)
    if kind == "plain" and isinstance(value, str):
        return str(value)  # a StrEnum member as its value
    return value


def decode(kind: str, value: Any) -> Any:
    """The Python value of a JSON value written by :func:`encode` (``ValueError`` if malformed)."""
    if value is None:
        return None
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "time":
        return dt.time.fromisoformat(value)
    if kind == "bytes":
        return base64.b64decode(value, validate=True)
    if kind == "decimal":
        try:
            return decimal.Decimal(value)
        except decimal.InvalidOperation as exc:
            raise ValueError(f"not a decimal: {value!r}") from exc
    if kind == "float" and value is not None:
        return float(value)
    return value


def generic_type(kind: str) -> TypeEngine[Any]:
    """A column type for ``kind`` when the code no longer declares the column (an older
    archive's table or column): enough to bind the value."""
    types: dict[str, TypeEngine[Any]] = {
        "json": JSON(none_as_null=True),
        "datetime": UtcDateTime(),
        "date": Date(),
        "time": Time(),
        "bytes": LargeBinary(),
        "decimal": Numeric(),
        "float": Float(),
    }
    return types.get(kind, String())
