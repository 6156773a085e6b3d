"""What the CACAO checks report (pure): a :class:`Problem` is a JSON path and a one-line English
message; :func:`at` and :func:`item` build the paths (``$.workflow['action--…'].commands[0]``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    path: str  # JSON path: "$.workflow['action--…'].commands[0].type"
    message: str  # English, one line

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def at(path: str, key: str) -> str:
    """``path['key']`` (quotes and backslashes in ``key`` escaped; NUL and line breaks shown)."""
    quoted = key.replace("\\", "\\\\").replace("'", "\\'")
    quoted = quoted.replace("\x00", "\\u0000").replace("\n", "\\n").replace("\r", "\\r")
    return f"{path}['{quoted}']"


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def prop(path: str, key: str) -> str:
    """``path.key`` for a plain property name, else ``path['key']``."""
    return f"{path}.{key}" if _NAME.match(key) else at(path, key)


def item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def text(value: object) -> bool:
    """A non-empty string (not only blanks)."""
    return isinstance(value, str) and bool(value.strip())


def mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def unknown_properties(path: str, value: Mapping[str, Any], known: frozenset[str]) -> list[Problem]:
    """A problem for each property of ``value`` not in ``known`` (custom ``x_`` names are
    allowed), with the known name it most likely misspells."""
    problems = []
    for key in value:
        if not isinstance(key, str) or key in known or key.startswith(("x_", "x-")):
            continue
        hint = _closest(key, known)
        message = "unknown property" + (f" (did you mean '{hint}'?)" if hint else "")
        problems.append(Problem(prop(path, key), message))
    return problems


def _closest(key: str, known: frozenset[str]) -> str | None:
    normal = key.replace("-", "_").lower()
    for guess in (normal, normal.rstrip("s") + "_definitions"):
        if guess in known:
            return guess
    guesses = difflib.get_close_matches(normal, sorted(known), n=1, cutoff=0.6)
    return guesses[0] if guesses else None
