"""MISP tags and galaxies read as an indicator's context (pure module).

* ``tlp:*`` (the exclusive MISP taxonomy ``tlp``) → TLP 2.0: ``clear`` (and the legacy
  ``white``), ``green``, ``amber``, ``amber+strict``, ``red``; an attribute's own TLP tag
  overrides its event's; two TLP tags on one level: the stricter wins. ``tlp:ex:chr`` (the
  Chatham House extension) and unknown ``tlp:`` values stay labels.
* ``misp-galaxy:<galaxy>="<cluster>"`` tags and ``Galaxy``/``GalaxyCluster`` blocks → a
  :class:`~feeds.rules.records.Related` for the galaxies that name a malware, a tool, an
  intrusion set, a threat actor or an ATT&CK technique (the MITRE id — ``T1566``, ``G0007``,
  ``S0161`` — parsed from the cluster's value, ``Phishing - T1566``); other galaxies (sectors,
  countries…) stay labels.
* every other tag, ``PAP:*`` included (upper-cased, ``PAP:WHITE`` → ``PAP:CLEAR``), is a label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.markings import Tlp
from feeds.rules.records import Related

TLP_TAGS = {
    "tlp:clear": Tlp.CLEAR,
    "tlp:white": Tlp.CLEAR,  # TLP 1.0
    "tlp:green": Tlp.GREEN,
    "tlp:amber": Tlp.AMBER,
    "tlp:amber+strict": Tlp.AMBER_STRICT,
    "tlp:red": Tlp.RED,
}

# galaxy type (MITRE prefixes removed) → the STIX type of the related object
GALAXY_TYPES = {
    "attack-pattern": "attack-pattern",
    "intrusion-set": "intrusion-set",
    "microsoft-activity-group": "intrusion-set",
    "threat-actor": "threat-actor",
    "malware": "malware",
    "malpedia": "malware",
    "ransomware": "malware",
    "botnet": "malware",
    "rat": "malware",
    "banker": "malware",
    "stealer": "malware",
    "backdoor": "malware",
    "android": "malware",
    "tool": "tool",
    "exploit-kit": "tool",
}
_MITRE_PREFIXES = (
    "mitre-enterprise-attack-",
    "mitre-mobile-attack-",
    "mitre-pre-attack-",
    "mitre-ics-",
    "mitre-",
)
_GALAXY_TAG = re.compile(r'misp-galaxy:([a-z0-9_.-]+)="(.*)"', re.IGNORECASE | re.DOTALL)
_MITRE_ID = re.compile(r"^(.*?)\s+-\s+((?:T|TA|G|S|M|C)\d{4}(?:\.\d{3})?)$")


@dataclass
class Context:
    """What a list of tags and galaxies says: TLP, labels, related objects."""

    tlp: Tlp | None = None
    labels: list[str] = field(default_factory=list)
    related: list[Related] = field(default_factory=list)

    def under(self, outer: Context) -> Context:
        """This (attribute) context over ``outer`` (its object's or event's): own TLP first,
        labels and related objects of both, outer first, without repeats."""
        return Context(
            self.tlp or outer.tlp,
            list(dict.fromkeys([*outer.labels, *self.labels])),
            list(dict.fromkeys([*outer.related, *self.related])),
        )


def read_context(holder: Mapping[str, Any]) -> Context:
    """The context of an event, object or attribute: its ``Tag`` (or ``EventTag``/
    ``AttributeTag``) list and its ``Galaxy`` blocks."""
    context = Context()
    names = [*_tag_names(holder), *_galaxy_tag_names(holder.get("Galaxy"))]
    for name in dict.fromkeys(names):
        _read_tag(name, context)
    return context


def _tag_names(holder: Mapping[str, Any]) -> Iterable[str]:
    for key in ("Tag", "EventTag", "AttributeTag"):
        tags = holder.get(key)
        if not isinstance(tags, list):
            continue
        for item in tags:
            tag = item
            if isinstance(item, Mapping) and isinstance(item.get("Tag"), Mapping):
                tag = item["Tag"]  # the REST API's EventTag: {"Tag": {"name": …}}
            name = tag.get("name") if isinstance(tag, Mapping) else tag
            if isinstance(name, str) and name.strip():
                yield name.strip()


def _galaxy_tag_names(galaxies: object) -> Iterable[str]:
    if not isinstance(galaxies, list):
        return
    for galaxy in galaxies:
        if not isinstance(galaxy, Mapping) or not isinstance(galaxy.get("GalaxyCluster"), list):
            continue
        for cluster in galaxy["GalaxyCluster"]:
            if not isinstance(cluster, Mapping):
                continue
            tag_name = cluster.get("tag_name")
            if isinstance(tag_name, str) and tag_name:
                yield tag_name
            elif isinstance(galaxy.get("type"), str) and isinstance(cluster.get("value"), str):
                yield f'misp-galaxy:{galaxy["type"]}="{cluster["value"]}"'


def _read_tag(name: str, context: Context) -> None:
    lowered = name.lower()
    tlp = TLP_TAGS.get(lowered)
    if tlp is not None:
        if context.tlp is None or tlp.at_least_as_strict_as(context.tlp):
            context.tlp = tlp
        return
    galaxy = _GALAXY_TAG.fullmatch(name)
    related = galaxy_related(galaxy.group(1), galaxy.group(2)) if galaxy else None
    if related is not None:
        context.related.append(related)
    elif lowered.startswith("pap:"):
        label = name.upper()
        context.labels.append("PAP:CLEAR" if label == "PAP:WHITE" else label)
    else:
        context.labels.append(name[:200])


def galaxy_related(galaxy: str, value: str) -> Related | None:
    """The related object a galaxy cluster names (``None`` for galaxies that are not one)."""
    kind = galaxy.lower()
    for prefix in _MITRE_PREFIXES:
        if kind.startswith(prefix):
            kind = kind.removeprefix(prefix)
            break
    stix_type = GALAXY_TYPES.get(kind)
    if stix_type is None or not value.strip():
        return None
    name, external_id = value.strip(), None
    mitre = _MITRE_ID.match(name)
    if mitre:
        name, external_id = mitre.group(1).strip(), mitre.group(2)
    return Related(stix_type, name[:300], external_id)
