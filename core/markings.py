"""TLP 2.0 and PAP markings (kernel): labels, order, colours and STIX marking objects.

Loaded from ``core/data/tlp.json`` (FIRST TLP 2.0 with the OASIS TLP 2.0 marking-definition
objects), shipped inside the package. TLP is a sharing boundary, enforced wherever data leaves
Vigie; this module only answers "which label is stricter" and "what does it look like".
"""

from __future__ import annotations

import enum
import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeVar

from core.i18n import N_


class Tlp(enum.StrEnum):
    """Ordered from least to most restrictive."""

    CLEAR = "TLP:CLEAR"
    GREEN = "TLP:GREEN"
    AMBER = "TLP:AMBER"
    AMBER_STRICT = "TLP:AMBER+STRICT"
    RED = "TLP:RED"

    @property
    def rank(self) -> int:
        return list(Tlp).index(self)

    def at_least_as_strict_as(self, other: Tlp) -> bool:
        return self.rank >= other.rank


class Pap(enum.StrEnum):
    """Permissible Actions Protocol, least to most restrictive."""

    CLEAR = "PAP:CLEAR"
    GREEN = "PAP:GREEN"
    AMBER = "PAP:AMBER"
    RED = "PAP:RED"

    @property
    def rank(self) -> int:
        return list(Pap).index(self)


DEFAULT_TLP = Tlp.AMBER
DEFAULT_PAP = Pap.AMBER
LEGACY_TLP = {"TLP:WHITE": Tlp.CLEAR}  # TLP 1.0 → 2.0
LEGACY_PAP = {"PAP:WHITE": Pap.CLEAR}


@dataclass(frozen=True)
class TlpInfo:
    label: Tlp
    colour: str  # text colour on black, as FIRST specifies
    stix_id: str
    description: str
    stix_object: dict[str, Any]


@functools.cache
def tlp_table() -> dict[Tlp, TlpInfo]:
    raw = json.loads(resources.files("core").joinpath("data/tlp.json").read_text(encoding="utf-8"))
    return {
        Tlp(item["label"]): TlpInfo(
            Tlp(item["label"]),
            item["colour"],
            item["stix_id"],
            item["description"],
            item["stix_object"],
        )
        for item in raw["labels"]
    }


E = TypeVar("E", Tlp, Pap)


def _parse(kind: type[E], prefix: str, legacy: dict[str, E], value: str) -> E:
    text = value.strip().upper().replace(" ", "")
    if text and not text.startswith(prefix):
        text = prefix + text
    if text in legacy:
        return legacy[text]
    try:
        return kind(text)
    except ValueError:
        valid = ", ".join(label.value for label in kind)
        raise ValueError(
            N_(
                "unknown %(kind)s label %(value)s; valid labels: %(valid)s",
                kind=prefix[:-1],
                value=repr(value),
                valid=valid,
            )
        ) from None


def parse_tlp(value: str) -> Tlp:
    """``TLP:AMBER``, ``tlp:amber``, ``amber`` or legacy ``TLP:WHITE`` → :class:`Tlp`.

    Raises ``ValueError`` listing the valid labels.
    """
    return _parse(Tlp, "TLP:", LEGACY_TLP, value)


def parse_pap(value: str) -> Pap:
    """``PAP:RED``, ``red`` or legacy ``PAP:WHITE`` → :class:`Pap` (``ValueError`` otherwise)."""
    return _parse(Pap, "PAP:", LEGACY_PAP, value)


def strictest(*labels: Tlp) -> Tlp:
    """The most restrictive of several labels (e.g. an export mixing several incidents)."""
    return max(labels, key=lambda t: t.rank)


def css_class(label: Tlp | Pap) -> str:
    """Stable CSS class for a badge, e.g. ``tlp-amber-strict``."""
    return label.value.lower().replace(":", "-").replace("+", "-")
