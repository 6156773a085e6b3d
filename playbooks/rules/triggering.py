"""Whether a trigger's conditions hold for an incident (pure).

A trigger (:class:`playbooks.models.PlaybookTrigger`) keeps its ``conditions`` as a JSON object;
every key is optional and every key present must hold (an empty object: every incident):

* ``categories``: RSIT class ids (``"malicious-code"``), the incident's class is one of them;
* ``types``: RSIT type ids (``"ransomware"``), the incident's type is one of them;
* ``min_priority``: ``"P1"`` … ``"P4"``, the incident is at least that urgent (``"P2"``: P1 or
  P2; P1 is the most urgent);
* ``tlp``: TLP labels (``"TLP:AMBER"``; ``"amber"`` is read the same), the incident's is one;
* ``organisation_ids``: the incident's organisation is one of them;
* ``sectors``: the incident's organisation's sector is one of them (none: no match);
* ``centres``: vigilance centre slugs, the centre the incident belongs to is one of them (the
  centre it was routed to, or transferred to since);
* ``statuses``: the incident's status is one of them — for the ``status`` event, the status it
  has just moved to.

Identifiers compare without regard to case or surrounding spaces. A condition that cannot be
read — an unknown key, a value of the wrong shape, a priority that is not P1 to P4 — never
holds: a trigger whose conditions cannot be checked starts nothing (:func:`problems` names
what is wrong, for the forms and the API that save them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PRIORITIES = ("P1", "P2", "P3", "P4")  # most urgent first
LIST_KEYS = ("categories", "types", "tlp", "sectors", "centres", "statuses")
KEYS = (*LIST_KEYS, "min_priority", "organisation_ids")


@dataclass(frozen=True)
class IncidentFacts:
    """What conditions are checked against, read from the incident (never from an event's
    payload text)."""

    category: str
    type: str | None
    priority: str  # "P1" … "P4"
    tlp: str  # "TLP:AMBER"
    organisation_id: int
    sector: str | None
    status: str  # for the status event: the new status
    centre: str | None = None  # the slug of the vigilance centre the incident belongs to


def matches(conditions: Mapping[str, Any], facts: IncidentFacts) -> bool:
    """True when every condition present holds for ``facts`` (see the module docstring)."""
    if not isinstance(conditions, Mapping):
        return False
    for key, wanted in conditions.items():
        check = _CHECKS.get(key)
        if check is None or not check(wanted, facts):
            return False
    return True


def problems(conditions: object) -> dict[str, str]:
    """What makes ``conditions`` unreadable, by JSON path (``{}``: every condition can be
    checked)."""
    if not isinstance(conditions, Mapping):
        return {"$": "the conditions are a JSON object"}
    found: dict[str, str] = {}
    for key, wanted in conditions.items():
        path = f"$.{key}"
        if key not in KEYS:
            found[path] = f"unknown condition (one of {', '.join(KEYS)})"
        elif key == "min_priority":
            if _priority(wanted) is None:
                found[path] = "one of P1, P2, P3, P4"
        elif key == "organisation_ids":
            if _ids(wanted) is None:
                found[path] = "a list of organisation ids (whole numbers)"
        elif _texts(wanted) is None:
            found[path] = "a list of identifiers (text)"
    return found


# ------------------------------------------------------------------ reading values
def _norm(value: str) -> str:
    return value.strip().lower()


def _texts(value: object) -> frozenset[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return frozenset(_norm(v) for v in value)


def _ids(value: object) -> frozenset[int] | None:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return None
    return frozenset(value)


def _priority(value: object) -> int | None:
    """The rank of a priority (0 = P1), ``None`` when it is not one."""
    if not isinstance(value, str) or value.strip().upper() not in PRIORITIES:
        return None
    return PRIORITIES.index(value.strip().upper())


def _tlp(label: str) -> str:
    """``"amber"``, ``"TLP:AMBER"``, ``" tlp:amber "`` → ``"tlp:amber"``."""
    label = _norm(label)
    return label if label.startswith("tlp:") else f"tlp:{label}"


# ------------------------------------------------------------------ the checks
def _among(wanted: object, value: str | None, *, norm: Callable[[str], str] = _norm) -> bool:
    texts = _texts(wanted)
    return texts is not None and value is not None and norm(value) in {norm(t) for t in texts}


def _min_priority(wanted: object, facts: IncidentFacts) -> bool:
    rank, own = _priority(wanted), _priority(facts.priority)
    return rank is not None and own is not None and own <= rank


def _organisation(wanted: object, facts: IncidentFacts) -> bool:
    ids = _ids(wanted)
    return ids is not None and facts.organisation_id in ids


_CHECKS: dict[str, Callable[[object, IncidentFacts], bool]] = {
    "categories": lambda wanted, facts: _among(wanted, facts.category),
    "types": lambda wanted, facts: _among(wanted, facts.type),
    "tlp": lambda wanted, facts: _among(wanted, facts.tlp, norm=_tlp),
    "sectors": lambda wanted, facts: _among(wanted, facts.sector),
    "centres": lambda wanted, facts: _among(wanted, facts.centre),
    "statuses": lambda wanted, facts: _among(wanted, facts.status),
    "min_priority": _min_priority,
    "organisation_ids": _organisation,
}
