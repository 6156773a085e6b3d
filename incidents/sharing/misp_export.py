"""Who may export an incident as a MISP event, and which observables it holds (use case,
Flask-free; reads only).

* The incident is loaded with :func:`incidents.intake.service.get_incident`: 404 for an incident
  the caller may not see (another organisation's, or a ``TLP:RED`` one outside its assignee,
  participants and leads — :mod:`incidents.access`).
* CERT staff export every observable of an incident they see; a reporter exports only what the
  reporter pages show them (:func:`incidents.origins.observables_for`): the observables their
  organisation's reports gave — never those a merge brought from another organisation's report,
  nor those only an analyst added.
* A ``TLP:RED`` incident is refused to everyone (403); ``TLP:RED`` observables are left out and
  the builder applies the rest of the rules (:mod:`incidents.sharing.misp`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.errors import PermissionDenied
from core.i18n import N_
from core.identity.authz import Actor
from core.markings import Tlp
from incidents.intake.service import get_incident
from incidents.models import Incident, IncidentObservable
from incidents.observables.connections import load_constituency
from incidents.origins import observables_for
from incidents.sharing.misp import SharedIncident, SharedObservable, build_event


def misp_event(session: Session, actor: Actor, reference: str) -> dict[str, Any]:
    """The MISP event (``{"Event": …}``) of incident ``reference``, as ``actor`` may export it."""
    incident = get_incident(session, actor, reference)
    if incident.tlp == Tlp.RED:
        raise PermissionDenied(
            N_("%(reference)s is TLP:RED: it is never exported", reference=incident.reference)
        )
    observables = observables_for(session, actor, incident)
    return build_event(
        shared_incident(incident),
        [shared_observable(o) for o in observables],
        load_constituency(session),
    )


def shared_incident(incident: Incident) -> SharedIncident:
    return SharedIncident(
        reference=incident.reference,
        category=incident.category,
        type=incident.type,
        tlp=incident.tlp,
        pap=incident.pap,
        priority=incident.priority,
        status=incident.status,
        detected_at=incident.detected_at,
        received_at=incident.received_at,
        updated_at=incident.updated_at,
    )


def shared_observable(observable: IncidentObservable) -> SharedObservable:
    return SharedObservable(
        type=observable.type,
        value=observable.value,
        tlp=observable.tlp,
        created_at=observable.created_at,
        warning_lists=tuple(observable.warning_lists or ()),
    )
