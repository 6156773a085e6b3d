"""What may leave Vigie, and how it is labelled (pure rules: no DB, no HTTP).

**Never beyond TLP.** Nothing marked ``TLP:RED`` ever leaves: not a RED incident, not a RED
observable, not a sighting of a RED feed indicator. Everything else leaves marked at the strictest
of the labels it carries (:func:`effective`): an observable of an AMBER incident is AMBER even if
it was reported GREEN, because it says "this was seen in that incident".

How far each reader may go (:class:`Audience`):

* CERT staff: up to ``TLP:AMBER+STRICT`` (the CERT is the recipient of every report);
* a constituent's account (a ministry): up to ``TLP:AMBER+STRICT`` for what *its own
  organisation* reported, up to ``TLP:AMBER`` for the CERT's own intelligence (a feed indicator
  an incident matched: AMBER allows the recipient's clients, AMBER+STRICT does not), and up to
  ``TLP:GREEN`` for anything else (the community).

The reporter's free text (title, description, contact) never leaves in STIX, and the reporting
organisation is described by its sectors only (:func:`sectors`), never by name: a ministry's name
next to an incident is itself sensitive, and one shared bundle is enough to leak it.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.markings import Tlp

SHAREABLE = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT)  # never RED
COMMUNITY = Tlp.GREEN  # what any account may read of another organisation's
CERT_TO_CLIENTS = Tlp.AMBER  # what a constituent may read of the CERT's own intelligence

# STIX industry-sector-ov values: a constituent's kind, then its (free-text) sector if it names
# one of the vocabulary's; anything else is dropped (free text never leaves).
KIND_SECTORS = {
    "ministry": "government-national",
    "agency": "government-national",
    "cert": "government-national",
    "establishment": "government-public-services",
}
SECTOR_WORDS = {
    "health": "healthcare",
    "healthcare": "healthcare",
    "finance": "financial-services",
    "financial-services": "financial-services",
    "energy": "energy",
    "education": "education",
    "defence": "defense",
    "defense": "defense",
    "telecommunications": "telecommunications",
    "telecom": "telecommunications",
    "transport": "transportation",
    "transportation": "transportation",
    "water": "utilities",
    "utilities": "utilities",
    "justice": "government-national",
    "emergency-services": "emergency-services",
    "government": "government-national",
    "government-national": "government-national",
    "government-regional": "government-regional",
    "government-local": "government-local",
    "government-public-services": "government-public-services",
}

# Incident Core (standards.md §4.4): schema enum values (what validators enforce)
DETERMINATION = {
    "new": "suspected",
    "triaged": "suspected",
    "in_progress": "suspected",
    "resolved": "successful-attempt",
    "closed": "successful-attempt",
    "rejected": "false-positive",
    "duplicate": "suspected",
}
INVESTIGATION = {
    "new": "new",
    "triaged": "open",
    "in_progress": "open",
    "resolved": "closed",
    "closed": "closed",
    "rejected": "closed",
    "duplicate": "closed",
}
CRITICALITY = {"P1": 95, "P2": 70, "P3": 40, "P4": 15}  # 5-level mapping: extreme … low


def sectors(kind: str, sector: str | None) -> list[str]:
    """The STIX sectors of a constituent, e.g. ``["government-national", "healthcare"]``."""
    found = [KIND_SECTORS.get(kind, "government-national")]
    word = SECTOR_WORDS.get((sector or "").strip().lower())
    if word is not None and word not in found:
        found.append(word)
    return found


_RANK = {label: rank for rank, label in enumerate(Tlp)}


def effective(*labels: Tlp) -> Tlp:
    """The label an object leaves with: the strictest of those it carries."""
    return max(labels, key=_RANK.__getitem__)


def leaves(label: Tlp) -> bool:
    return label is not Tlp.RED


def allowed_up_to(ceiling: Tlp) -> tuple[Tlp, ...]:
    """Every shareable label no stricter than ``ceiling``."""
    return tuple(t for t in SHAREABLE if ceiling.at_least_as_strict_as(t))


@dataclass(frozen=True)
class Audience:
    """Who receives: CERT staff, or an account of organisation ``organisation_id``. ``centres``:
    the vigilance centres a staff member works (:func:`core.identity.centres.scope_of`; ``None``
    for every centre): at the AMBER levels they read only the objects of those centres'
    incidents (and of incidents shared with them)."""

    staff: bool
    organisation_id: int | None
    centres: frozenset[int] | None = None

    def ceiling(self, origin_organisation: int | None) -> Tlp:
        """The strictest label this reader may receive of what ``origin_organisation`` reported
        (``None``: the CERT's own intelligence)."""
        if self.staff:
            return Tlp.AMBER_STRICT
        if origin_organisation is None:
            return CERT_TO_CLIENTS
        if origin_organisation == self.organisation_id:
            return Tlp.AMBER_STRICT
        return COMMUNITY

    def may_receive(self, label: Tlp, origin_organisation: int | None) -> bool:
        return leaves(label) and self.ceiling(origin_organisation).at_least_as_strict_as(label)
