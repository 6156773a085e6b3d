"""Variable references in strings (pure): ``__name__:value`` (CACAO 2.0) and ``$$name$$``
(CACAO 1.x, still written by some tools) replaced by the variable's value.

Each command type escapes a value for where it goes (:func:`substitute`'s ``escape``): a task
title takes plain text without control characters (:func:`plain`), an http-api path percent-
encodes, a header refuses line breaks, a JSON body JSON-escapes. A value is never interpreted
as code: it is text in its place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from playbooks.rules.cacao import VARIABLE_REFERENCE


class UnknownVariable(KeyError):
    """A reference to a variable the step does not see."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown variable {self.name}"


def references(text: str) -> list[str]:
    """The variable names ``text`` refers to (``__name__`` form), in order."""
    return [_name(m) for m in VARIABLE_REFERENCE.finditer(text)]


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def plain(text: str) -> str:
    """Text with control characters (but tab) replaced by spaces."""
    return "".join(" " if (ord(c) < 32 and c != "\t") or ord(c) == 127 else c for c in text)


def substitute(
    text: str, variables: Mapping[str, Any], *, escape: Callable[[str], str] = plain
) -> str:
    """``text`` with each reference replaced by ``escape(value)``; ``UnknownVariable`` when a
    referenced variable is not in ``variables``."""

    def replace(match: Any) -> str:
        name = _name(match)
        if name not in variables:
            raise UnknownVariable(name)
        return escape(as_text(variables[name]))

    return VARIABLE_REFERENCE.sub(replace, text)


def _name(match: Any) -> str:
    legacy = match.group("legacy")
    return f"__{legacy}__" if legacy is not None else str(match.group("cacao"))
