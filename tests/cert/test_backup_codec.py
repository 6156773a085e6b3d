"""The archive's values: each column kind written as JSON and read back to the same value."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Date, Float, Integer, LargeBinary, Numeric, String, Time

from cert.backup.codec import KINDS, column_kind, decode, encode, encoder
from core.db import StrEnumType, UtcDateTime
from core.identity.models import Role

VALUES: list[tuple[Any, str, Any]] = [
    (UtcDateTime(), "datetime", dt.datetime(2026, 12, 6, 5, 4, 3, 123456, tzinfo=dt.UTC)),
    (Date(), "date", dt.date(2026, 2, 28)),
    (Time(), "time", dt.time(23, 59, 58, 7)),
    (LargeBinary(), "bytes", bytes(range(256))),
    (Numeric(12, 4), "decimal", decimal.Decimal("12345678.0001")),
    (Float(), "float", 1.5e-7),
    (JSON(), "json", {"a": [1, 2.5, None, {"é": "ع"}], "b": True}),
    (Integer(), "plain", 2**40),
    (String(20), "plain", "texte arabe: مرحبا"),
]


@pytest.mark.parametrize(("kind_type", "kind", "value"), VALUES)
def test_each_kind_comes_back_through_json(kind_type: Any, kind: str, value: Any) -> None:
    assert column_kind(Column("c", kind_type)) == kind
    written = json.loads(json.dumps(encode(kind, value)))
    assert decode(kind, written) == value
    assert encoder(kind)(value) == encode(kind, value)
    assert decode(kind, encode(kind, None)) is None


def test_an_enum_is_written_as_its_value() -> None:
    column = Column("role", StrEnumType(Role, 16))
    assert column_kind(column) == "plain"
    assert json.dumps(encode("plain", Role.ANALYST)) == '"analyst"'


@pytest.mark.parametrize(
    ("kind", "bad"),
    [("datetime", "yesterday"), ("bytes", "***"), ("decimal", "1,5"), ("date", 20260101)],
)
def test_a_malformed_value_is_an_error(kind: str, bad: Any) -> None:
    assert kind in KINDS
    with pytest.raises((ValueError, TypeError)):
        decode(kind, bad)
