"""RSIT — the Reference Security Incident Taxonomy (ENISA / TF-CSIRT, v1003 = RSIT 1.3).

Loaded as data from ``incidents/data/rsit.json`` (shipped in the package). Ids are stored; labels
are only for display. Unknown ids are rejected with the list of valid ones.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

from core.i18n import N_


@dataclass(frozen=True)
class RsitType:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class RsitClass:
    id: str
    name: str
    description: str
    types: tuple[RsitType, ...]

    def type(self, type_id: str) -> RsitType | None:
        return next((t for t in self.types if t.id == type_id), None)


@functools.cache
def rsit_classes() -> dict[str, RsitClass]:
    raw = json.loads(
        resources.files("incidents").joinpath("data/rsit.json").read_text(encoding="utf-8")
    )
    return {
        item["id"]: RsitClass(
            item["id"],
            item["name"],
            item["description"],
            tuple(RsitType(t["id"], t["name"], t["description"]) for t in item["types"]),
        )
        for item in raw
    }


class UnknownClassification(ValueError):
    """An RSIT class or type id that does not exist; ``field`` says which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def validate_classification(class_id: str, type_id: str | None) -> tuple[str, str | None]:
    """Check a (class, type) pair; the type is optional but must belong to the class."""
    classes = rsit_classes()
    rsit_class = classes.get(class_id)
    if rsit_class is None:
        raise UnknownClassification(
            "category",
            N_(
                "unknown RSIT class %(value)s; valid classes: %(valid)s",
                value=repr(class_id),
                valid=", ".join(classes),
            ),
        )
    if type_id is None or type_id == "":
        return class_id, None
    if rsit_class.type(type_id) is None:
        valid = ", ".join(t.id for t in rsit_class.types)
        raise UnknownClassification(
            "type",
            N_(
                "unknown RSIT type %(value)s for class %(class)s; valid types: %(valid)s",
                value=repr(type_id),
                valid=valid,
                **{"class": repr(class_id)},
            ),
        )
    return class_id, type_id


def machine_tag(class_id: str, type_id: str | None) -> str:
    """MISP machine tag, e.g. ``rsit:malicious-code="infected-system"``."""
    return f'rsit:{class_id}="{type_id}"' if type_id else f"rsit:{class_id}"
