"""Drafts pre-filled from what the CERT already knows (Flask-free): from incidents, from a list of
CVE ids. Both go through :func:`bulletins.authoring.services.create_draft` with a
:class:`~bulletins.authoring.schemas.DraftIn`, so a pre-filled draft obeys every rule a typed one
does.

**Never beyond TLP.** A draft from incidents carries only the indicators whose label allows the
bulletin's audience: an observable leaves at the strictest of its own TLP, its incident's and (for
one a merge moved) its origin incident's (:func:`incidents.sharing.shareable.effective`); one
stricter than the bulletin's TLP is left out, so a ``TLP:RED`` or ``TLP:AMBER`` observable never
enters a ``TLP:GREEN`` bulletin. Known-benign values (on a warning list) are left out too. The
incidents' free text (title, description, contacts) is never copied: the analyst writes the
bulletin's text from a French skeleton.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bulletins.authoring import services
from bulletins.authoring.schemas import CVE, DraftIn
from bulletins.models import MAX_TITLE, Bulletin, BulletinIncident, BulletinKind, BulletinSource
from core.clock import Clock
from core.errors import NotFound, ValidationFailed
from core.i18n import translations
from core.identity.authz import Actor, require
from core.identity.models import Role
from core.inputs import field_errors
from core.markings import Tlp, parse_tlp
from incidents.access import can_see
from incidents.models import Incident, IncidentObservable
from incidents.rules.labels import classification_label
from incidents.sharing.shareable import effective

CVE_RECORD = "https://www.cve.org/CVERecord?id={}"
MAX_SOURCE_REF = 500
MAX_INCIDENTS = 50  # incidents one draft is written from
MAX_CVES = 200  # CVE ids of a draft from a list (each gets a reference link: DraftIn allows 200)
INDICATOR_TYPES = frozenset({"ipv4", "ipv6", "domain", "url", "md5", "sha1", "sha256", "email"})
AUDIENCE_TLPS = (Tlp.AMBER, Tlp.AMBER_STRICT)  # the incidents' organisations are the audience
KIND_TITLES = {
    BulletinKind.ADVISORY: "Vulnérabilité",
    BulletinKind.ALERT: "Alerte",
    BulletinKind.NOTE: "Note de sécurité",
    BulletinKind.DIGEST: "Bulletin hebdomadaire",
}
# an incident's priority → the bulletin's risk level (the highest of its incidents)
RISKS = {"P1": "critical", "P2": "important", "P3": "moderate", "P4": "low"}
SKELETON_SUMMARY = (
    "Le CERT a traité {count} incident(s) de type {names}.\n\n"
    "[À compléter : description de la menace, mode opératoire, systèmes visés.]"
)
SKELETON_SOLUTION = "[À compléter : mesures recommandées.]"
SKELETON_RISKS = "[À compléter : risques pour les organisations.]"


def parse_draft(data: Mapping[str, Any]) -> DraftIn:
    """``data`` as a :class:`DraftIn`, or :class:`ValidationFailed` naming each bad field
    (``cves``, ``texts.fr.title``, ``affected[2].product``…)."""
    try:
        return DraftIn.model_validate(dict(data))
    except ValidationError as exc:
        raise ValidationFailed(
            "invalid bulletin", fields=field_errors(exc.errors(include_url=False), "bulletin")
        ) from None


def find_incidents(session: Session, actor: Actor, refs: Sequence[int | str]) -> list[Incident]:
    """The incidents named by id or reference, each visible to ``actor`` exactly as on the
    incident pages; an unknown or invisible one is :class:`NotFound` naming it."""
    wanted = [r if isinstance(r, int) else str(r).strip().upper() for r in refs]
    wanted = [r for r in wanted if r != ""]
    if not wanted:
        raise ValidationFailed("no incident", fields={"incidents": "name at least one incident"})
    if len(wanted) > MAX_INCIDENTS:
        raise ValidationFailed(
            "too many incidents", fields={"incidents": f"at most {MAX_INCIDENTS} incidents"}
        )
    ids = [r for r in wanted if isinstance(r, int)]
    references = [r for r in wanted if isinstance(r, str)]
    query = select(Incident).options(
        selectinload(Incident.observables), selectinload(Incident.participants)
    )
    found: dict[int | str, Incident] = {}
    if ids:
        for incident in session.scalars(query.where(Incident.id.in_(ids))):
            found[incident.id] = incident
    if references:
        for incident in session.scalars(query.where(Incident.reference.in_(references))):
            found[incident.reference] = incident
    out: list[Incident] = []
    for ref in wanted:
        hit = found.get(ref)
        if hit is None or not can_see(actor, hit):
            raise NotFound(f"no incident {ref}", fields={"incidents": f"no incident {ref}"})
        if hit not in out:
            out.append(hit)
    return out


def draft_from_incidents(
    session: Session,
    actor: Actor,
    refs: Sequence[int | str],
    *,
    kind: BulletinKind | str,
    tlp: str,
    clock: Clock,
    source_ref: str | None = None,
) -> Bulletin:
    """A draft pre-filled from the incidents ``refs`` (ids or references) that ``actor`` sees."""
    require(actor, Role.ANALYST, "writing bulletins")
    label = _tlp(tlp)
    kind = _kind(kind)
    incidents = find_incidents(session, actor, refs)
    indicators, cves = shareable(session, incidents, label)
    organisations = (
        list(dict.fromkeys(i.organisation.slug for i in incidents))
        if label in AUDIENCE_TLPS
        else []
    )
    names = list(dict.fromkeys(_classification(i) for i in incidents))
    title = f"{KIND_TITLES[kind]} : {', '.join(names)}"[:MAX_TITLE]
    risk = min((i.priority.value for i in incidents), default="P3")
    data = {
        "kind": kind,
        "tlp": str(label),
        "risk": RISKS.get(risk, "moderate"),
        "impact": RISKS.get(risk, "moderate"),
        "cves": cves,
        "indicators": indicators,
        "organisations": organisations,
        "texts": {"fr": {"title": title,
                         "summary": SKELETON_SUMMARY.format(count=len(incidents),
                                                            names=", ".join(names)),
                         "solution": SKELETON_SOLUTION, "risks": SKELETON_RISKS}},
    }  # fmt: skip
    bulletin = services.create_draft(
        session, actor, parse_draft(data), clock=clock, source=BulletinSource.INCIDENTS
    )
    refs_text = " ".join(i.reference for i in incidents)
    bulletin.source_ref = (source_ref or f"incidents:{refs_text}")[:MAX_SOURCE_REF]
    session.add_all(BulletinIncident(bulletin_id=bulletin.id, incident_id=i.id) for i in incidents)
    session.flush()
    return bulletin


def shareable(
    session: Session, incidents: Iterable[Incident], label: Tlp
) -> tuple[list[dict[str, str]], list[str]]:
    """(indicators, CVE ids) of ``incidents`` whose effective TLP is no stricter than
    ``label``, known-benign values left out, each value once."""
    incidents = list(incidents)
    observables = [(o, i) for i in incidents for o in i.observables]
    origin_ids = {o.origin_incident_id for o, _ in observables if o.origin_incident_id}
    origins = (
        {
            row.id: row.tlp
            for row in session.execute(
                select(Incident.id, Incident.tlp).where(Incident.id.in_(origin_ids))
            )
        }
        if origin_ids
        else {}
    )
    indicators: list[dict[str, str]] = []
    cves: list[str] = []
    for observable, incident in observables:
        if not _allowed(observable, incident, origins, label) or observable.warning_lists:
            continue
        if observable.type == "cve":
            cve = observable.value.strip().upper()
            if CVE.match(cve) and cve not in cves:
                cves.append(cve)
        elif observable.type in INDICATOR_TYPES:
            item = {"type": observable.type, "value": observable.value}
            if item not in indicators:
                indicators.append(item)
    return indicators, cves


def _allowed(
    observable: IncidentObservable, incident: Incident, origins: Mapping[int, Tlp], label: Tlp
) -> bool:
    labels = [Tlp(observable.tlp), Tlp(incident.tlp)]
    if observable.origin_incident_id is not None:
        origin = origins.get(observable.origin_incident_id)
        if origin is None:
            return False  # the origin is gone: its label is unknown, so it is left out
        labels.append(Tlp(origin))
    return label.at_least_as_strict_as(effective(*labels))


def draft_from_cves(
    session: Session,
    actor: Actor,
    cves: Sequence[str],
    *,
    kind: BulletinKind | str = BulletinKind.ADVISORY,
    clock: Clock,
    tlp: str = str(Tlp.CLEAR),
) -> Bulletin:
    """A draft naming the CVE ids ``cves`` (checked), with their cve.org records as references
    and a French title for the analyst to complete."""
    require(actor, Role.ANALYST, "writing bulletins")
    ids = parse_cves(cves)
    shown = ", ".join(ids[:5]) + (f" et {len(ids) - 5} autres" if len(ids) > 5 else "")
    title = f"{'Vulnérabilité' if len(ids) == 1 else 'Vulnérabilités'} {shown}"[:MAX_TITLE]
    data = {
        "kind": _kind(kind),
        "tlp": tlp,
        "cves": ids,
        "links": [CVE_RECORD.format(cve) for cve in ids],
        "texts": {"fr": {"title": title, "summary": "[À compléter : bilan de la vulnérabilité.]",
                         "solution": "[À compléter : solution.]",
                         "risks": "[À compléter : risques.]"}},
    }  # fmt: skip
    bulletin = services.create_draft(
        session, actor, parse_draft(data), clock=clock, source=BulletinSource.CVES
    )
    bulletin.source_ref = f"cves:{' '.join(ids)}"[:MAX_SOURCE_REF]
    session.flush()
    return bulletin


def parse_cves(values: Iterable[str]) -> list[str]:
    """CVE ids (any case, separated by spaces, commas or lines), upper-cased and each once; a
    bad one is :class:`ValidationFailed` naming ``cves``."""
    out: list[str] = []
    for value in values:
        for word in re.split(r"[\s,;]+", value):
            if not word:
                continue
            cve = word.upper()
            if not CVE.match(cve):
                raise ValidationFailed(
                    "invalid CVE id",
                    fields={"cves": f"{word[:40]!r} is not a CVE id (CVE-2026-12345)"},
                )
            if cve not in out:
                out.append(cve)
    if not out:
        raise ValidationFailed("no CVE id", fields={"cves": "give at least one CVE id"})
    if len(out) > MAX_CVES:
        raise ValidationFailed("too many CVE ids", fields={"cves": f"at most {MAX_CVES} CVE ids"})
    return out


def _classification(incident: Incident) -> str:
    gettext = translations("fr").gettext
    name, type_name = classification_label(incident.category, incident.type)
    return gettext(type_name) if type_name else gettext(name)


def _tlp(value: str) -> Tlp:
    try:
        return parse_tlp(value)
    except ValueError as exc:
        raise ValidationFailed("invalid TLP", fields={"tlp": str(exc)}) from None


def _kind(value: BulletinKind | str) -> BulletinKind:
    try:
        return BulletinKind(value)
    except ValueError:
        kinds = ", ".join(k.value for k in BulletinKind)
        raise ValidationFailed("invalid kind", fields={"kind": f"one of {kinds}"}) from None


def data_of(
    bulletin: Bulletin, organisations: Sequence[str], lists: Sequence[str]
) -> dict[str, Any]:
    """A stored draft as :class:`DraftIn` data (to change a few fields and save it again)."""
    return {
        "kind": bulletin.kind, "tlp": bulletin.tlp, "risk": bulletin.risk,
        "impact": bulletin.impact, "affected": list(bulletin.affected),
        "cves": list(bulletin.cves), "links": list(bulletin.links),
        "indicators": list(bulletin.indicators), "scores": list(bulletin.scores or []),
        "texts": {t.language: {"title": t.title, "summary": t.summary, "solution": t.solution,
                               "risks": t.risks} for t in bulletin.texts},
        "organisations": list(organisations), "lists": list(lists),
    }  # fmt: skip
