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
from core.identity.models import Organisation
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


def export_incident(
    session: Session, actor: Actor, reference: str, *, producer: so.Producer
) -> so.Obj:
    """The STIX bundle of ``reference`` as ``actor`` may receive it (``producer``: the CERT, its
    reference prefix for the ids and ``CERT_NAME``); ``NotFound`` / ``PermissionDenied``
    otherwise."""
    incident = get_incident(session, actor, reference)
    if not leaves(incident.tlp):
        raise PermissionDenied("a TLP:RED incident never leaves Vigie")
    audience = Audience(actor.is_cert_staff, actor.organisation_id)
    ns = producer.ns
    out = _Bundle(ns, producer.identity(), producer.name)
    victim = victim_identity(ns, incident.organisation)
    core = so.incident(out.common(incident.tlp), _facts(incident))
    out.add(out.producer, victim, core)
    observed = _observables(session, out, actor, incident, core["id"])
    _sightings(session, out, audience, observed)
    objects = list(out.objects.values())
    reader = "staff" if audience.staff else f"organisation/{audience.organisation_id}"
    key = f"{incident.reference}/{core['modified']}/{reader}"
    return so.bundle(ns, key, [*so.markings_for(objects), *objects])


def victim_identity(ns: uuid.UUID, organisation: Organisation) -> so.Obj:
    return so.sector_identity(ns, sectors(str(organisation.kind), organisation.sector))


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
    where_ref: str  # the sector identity of the organisation that reported it


def _observables(
    session: Session, out: _Bundle, actor: Actor, incident: Incident, incident_ref: str
) -> list[_Observed]:
    """Add each observable ``actor`` may read and receive; return them with their labels."""
    audience = Audience(actor.is_cert_staff, actor.organisation_id)
    kept: list[_Observed] = []
    for obs in observables_for(session, actor, incident):
        origin = session.get(Incident, obs.origin_incident_id) if obs.origin_incident_id else None
        source = origin or obs.incident  # the holder: this incident, or a merge's survivor
        label = effective(incident.tlp, obs.incident.tlp, obs.tlp, source.tlp)
        if not audience.may_receive(label, source.organisation_id):
            continue
        common = out.common(label)
        if obs.type == "cve":
            vuln = so.vulnerability(common, obs.id, obs.value, obs.created_at)
            out.add(
                vuln,
                so.relationship(common, incident_ref, "related-to", vuln["id"], obs.created_at),
            )
            continue
        sco = so.sco(obs.type, obs.value)
        seen = so.observed_data(common, obs.id, [sco["id"]], obs.created_at)
        out.add(
            sco,
            seen,
            so.relationship(common, incident_ref, "related-to", seen["id"], obs.created_at),
        )
        if not obs.warning_lists:
            ind = so.indicator(common, obs.id, obs.type, obs.value, obs.created_at)
            out.add(ind, so.relationship(common, ind["id"], "based-on", seen["id"], obs.created_at))
        where = victim_identity(out.ns, source.organisation)
        out.add(where)
        kept.append(_Observed(obs, label, seen["id"], where["id"]))
    return kept


def _sightings(
    session: Session, out: _Bundle, audience: Audience, observed: list[_Observed]
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
                match.id,
                sighting_of(out.ns, indicator.stix_id, indicator.feed_id, indicator.source_ref),
                match.matched_at,
                observed_refs=[seen.observed_ref],
                where_refs=[seen.where_ref],
            )
        )


def sighting_of(ns: uuid.UUID, stix_id: str | None, feed_id: int, source_ref: str) -> str:
    """The STIX id of a feed's indicator: its own when the feed gave one, else a stable one."""
    if stix_id and STIX_ID.match(stix_id):
        return stix_id
    return so.stable_id("indicator", ns, f"feed/{feed_id}/{source_ref}")
