"""What the CSAF 2.0 mandatory tests report, and tolerant access to a parsed document (pure)."""

from __future__ import annotations

from typing import Any, NamedTuple


class Problem(NamedTuple):
    test: str  # "6.1.1"
    path: str  # a JSON pointer, "/vulnerabilities/0/product_status/known_affected/2"
    message: str


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
