"""An incident as a STIX 2.1 bundle, for whoever may read it, never beyond TLP (Flask-free).

Who may export: whoever may see the incident (:func:`incidents.access.can_see`: CERT staff, and
the reporting organisation's own accounts); anyone else gets the same 404 as for an unknown
reference. A ``TLP:RED`` incident is never exported (403 for those who see it).

What the bundle holds (:mod:`incidents.sharing.stix_objects` builds each object):

* the TLP 2.0 marking definitions it uses, the CERT as producer ``identity``, the reporting
  organisation as a *sector* ``identity`` (never its name, :mod:`incidents.sharing.shareable`);
* the ``incident`` (Incident Core extension: determination, investigation status, criticality),
  named by its reference and RSIT class only — the reporter's free text never leaves;
* each observable the reader may read (:func:`incidents.origins.observables_for`: a reporter
  never gets another organisation's, merged in, nor an analyst's lead) and may receive under TLP
  (:class:`~incidents.sharing.shareable.Audience`): its SCO, an ``observed-data`` related to the
  incident and, unless it is on a warning list (known-benign), an ``indicator`` based on it; a
  CVE as a ``vulnerability``;
* a ``sighting`` per feed indicator those observables matched, when the reader may receive the
  feed indicator's label too.

Each object is marked at the strictest label it carries (incident, observable, origin, feed).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import PermissionDenied
from core.identity.authz import Actor
from core.markings import Tlp
from feeds.models import Indicator
from incidents.intake.service import get_incident
from incidents.intel.models import IncidentMatch
from incidents.models import Incident, IncidentObservable
from incidents.origins import observables_for
from incidents.sharing import stix_objects as so
from incidents.sharing.shareable import (
    CRITICALITY,
    DETERMINATION,
    INVESTIGATION,
    Audience,
    effective,
    leaves,
    sectors,
)

STIX_ID = re.compile(r"^indicator--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class _Bundle:
    """The objects gathered so far, by id (an object reached twice is kept once)."""

    ns: uuid.UUID
    producer: so.Obj
    name: str
    objects: dict[str, so.Obj] = field(default_factory=dict)

    def common(self, label: Tlp) -> so.Common:
        return so.Common(self.ns, self.producer["id"], self.name, label)

    def add(self, *objs: so.Obj) -> None:
        for obj in objs:
            self.objects.setdefault(obj["id"], obj)


def export_incident(session: Session, actor: Actor, reference: str, *, producer: str) -> so.Obj:
    """The STIX bundle of ``reference`` as ``actor`` may receive it (``producer``: the CERT's
    name, its reference prefix); ``NotFound`` / ``PermissionDenied`` otherwise."""
    incident = get_incident(session, actor, reference)
    if not leaves(incident.tlp):
        raise PermissionDenied("a TLP:RED incident never leaves Vigie")
    audience = Audience(actor.is_cert_staff, actor.organisation_id)
    ns = so.namespace(producer)
    out = _Bundle(ns, so.producer(ns, producer), producer)
    common = out.common(incident.tlp)
    org = incident.organisation
    victim = so.sector_identity(common, sectors(str(org.kind), org.sector))
    core = so.incident(common, _facts(incident))
    out.add(out.producer, victim, core)
    observed = _observables(session, out, actor, incident, core["id"])
    _sightings(session, out, audience, observed, victim["id"])
    objects = list(out.objects.values())
    reader = "staff" if audience.staff else f"organisation/{audience.organisation_id}"
    key = f"{incident.reference}/{core['modified']}/{reader}"
    return so.bundle(ns, key, [*so.markings_for(objects), *objects])


def _facts(incident: Incident) -> so.IncidentFacts:
    status = str(incident.status)
    return so.IncidentFacts(
        reference=incident.reference,
        category=incident.category,
        type=incident.type,
        determination=DETERMINATION[status],
        investigation_status=INVESTIGATION[status],
        criticality=CRITICALITY[str(incident.priority)],
        created=incident.received_at,
        modified=max(incident.updated_at, incident.received_at),
    )


@dataclass(frozen=True)
class _Observed:
    observable: IncidentObservable
    label: Tlp
    observed_ref: str


def _observables(
    session: Session, out: _Bundle, actor: Actor, incident: Incident, incident_ref: str
) -> list[_Observed]:
    """Add each observable ``actor`` may read and receive; return them with their labels."""
    audience = Audience(actor.is_cert_staff, actor.organisation_id)
    kept: list[_Observed] = []
    for obs in observables_for(session, actor, incident):
        origin = session.get(Incident, obs.origin_incident_id) if obs.origin_incident_id else None
        source = origin or incident
        label = effective(incident.tlp, obs.tlp, source.tlp)
        if not audience.may_receive(label, source.organisation_id):
            continue
        common, key = out.common(label), f"observable/{obs.id}"
        if obs.type == "cve":
            vuln = so.vulnerability(common, obs.value, obs.created_at)
            out.add(
                vuln,
                so.relationship(common, incident_ref, "related-to", vuln["id"], obs.created_at),
            )
            continue
        sco = so.sco(obs.type, obs.value)
        seen = so.observed_data(common, key, [sco["id"]], obs.created_at)
        out.add(
            sco,
            seen,
            so.relationship(common, incident_ref, "related-to", seen["id"], obs.created_at),
        )
        if not obs.warning_lists:
            ind = so.indicator(common, key, obs.type, obs.value, obs.created_at)
            out.add(ind, so.relationship(common, ind["id"], "based-on", seen["id"], obs.created_at))
        kept.append(_Observed(obs, label, seen["id"]))
    return kept


def _sightings(
    session: Session, out: _Bundle, audience: Audience, observed: list[_Observed], where: str
) -> None:
    by_id = {o.observable.id: o for o in observed}
    if not by_id:
        return
    rows = session.execute(
        select(IncidentMatch, Indicator)
        .join(Indicator, Indicator.id == IncidentMatch.indicator_id)
        .where(IncidentMatch.observable_id.in_(by_id))
        .order_by(IncidentMatch.id)
    )
    for match, indicator in rows:
        seen = by_id[match.observable_id]
        if not audience.may_receive(indicator.tlp, None):
            continue
        common = out.common(effective(seen.label, indicator.tlp))
        out.add(
            so.sighting(
                common,
                f"match/{match.id}",
                sighting_of(out.ns, indicator),
                match.matched_at,
                observed_refs=[seen.observed_ref],
                where_refs=[where],
            )
        )


def sighting_of(ns: uuid.UUID, indicator: Indicator) -> str:
    """The STIX id of a feed's indicator: its own when the feed gave one, else a stable one."""
    if indicator.stix_id and STIX_ID.match(indicator.stix_id):
        return indicator.stix_id
    return so.stable_id("indicator", ns, f"feed/{indicator.feed_id}/{indicator.source_ref}")
