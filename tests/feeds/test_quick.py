""":func:`feeds.rules.quick.quick_value` gives exactly what ``index_value`` gives, or its error."""

from __future__ import annotations

import re

import pytest

from feeds.rules.keys import index_value
from feeds.rules.quick import quick_value
from feeds.rules.values import InvalidObservable

CASES = [
    ("ipv4", v)
    for v in (
        "0.0.0.0",  # noqa: S104 - a value, not a bind address
        "1.2.3.4",
        "9.99.199.249",
        "255.255.255.255",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3.04",
        "1.2.3",
        "1.2.3.4.5",
        "198.51.100.0/24",
        "198.51.100.7/32",
        "198[.]51.100.7",
        " 198.51.100.7 ",
        "١.٢.٣.٤",  # Arabic-Indic digits: not an address
    )
] + [
    (kind, v)
    for kind, length in (("md5", 32), ("sha1", 40), ("sha256", 64))
    for v in ("a" * length, "AbCdEf0123" * (length // 10) + "f" * (length % 10), "g" * length)
    + ("a" * (length - 1), "a" * (length + 1), " " + "b" * length)
]


@pytest.mark.parametrize(("kind", "raw"), CASES)
def test_the_quick_path_agrees_with_index_value(kind: str, raw: str) -> None:
    try:
        expected = index_value(kind, raw)
    except InvalidObservable as exc:
        with pytest.raises(InvalidObservable, match="^" + re.escape(str(exc))):
            quick_value(kind, raw)
        return
    assert quick_value(kind, raw) == expected
