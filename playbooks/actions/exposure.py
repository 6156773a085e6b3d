"""The ``exposure-check`` x-vigie action (Flask-free executor): the run's organisation's
registered domains and IP ranges matched against the indicator index
(:mod:`playbooks.actions.exposure_index`).

A hit is *new* the first time its (organisation, kind, value) is found: it is kept in
``playbook_exposure_hits`` and never reported again. New hits go to **one incident per
organisation and day** (``CERT_TIMEZONE``'s day): the first check of the day that finds any
opens it through the intake service the form uses (RSIT ``vulnerable``, TLP:AMBER, the hit
values as observables, ``source_ref`` ``exposure-check:<date>``); later checks that day add their
new hits to it. Each check with new hits queues one e-mail per organisation contact listing
them (never one per indicator, never a hit twice); ``notify`` false queues none.

Outputs: ``__hits__`` (every value hit now), ``__new_hits__`` (those reported by this check),
``__incident_reference__`` (the day's incident, when there is one). The incident becomes the
run's incident.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import DomainError
from core.i18n import N_
from core.identity.models import Organisation
from incidents.intake.schemas import IncidentSubmission, ObservableIn
from incidents.intake.service import add_event, add_observables, submit_incident
from incidents.models import Incident
from incidents.observables.extraction import Observable, canonicalise_observable
from playbooks.actions import mailing
from playbooks.actions.exposure_index import Hit, exposure_hits
from playbooks.engine.registry import CommandCall, CommandOutcome, register
from playbooks.models import ExposureHit

CATEGORY = "vulnerable"  # RSIT: an asset of the organisation is known to threat intelligence
TLP = "TLP:AMBER"
SOURCE = "playbook"  # where an incident observable was found


def exposure_check(session: Session, call: CommandCall) -> CommandOutcome:
    organisation = call.organisation
    if organisation is None:
        return CommandOutcome(ok=False, error="exposure-check needs the run's organisation")
    now = call.clock.now()
    hits = exposure_hits(session, organisation, now=now)
    new = _new_hits(session, organisation, hits)
    day = now.astimezone(ZoneInfo(call.settings.intake.timezone)).date()
    incident = _day_incident(session, organisation, day)
    if new:
        try:
            incident = _report(session, call, organisation, incident, new, day)
        except DomainError as exc:  # e.g. another check opened the day's incident meanwhile
            return CommandOutcome(ok=False, error=f"exposure-check: {exc}")
        for hit in new:
            session.add(
                ExposureHit(
                    organisation_id=organisation.id,
                    kind=hit.kind,
                    value=hit.value,
                    indicator_id=hit.indicator_id,
                    asset=hit.asset,
                    first_seen_at=now,
                    incident_id=incident.id,
                )
            )
        session.flush()
        if _argument(call, "notify", True):
            _notify(session, call, organisation, incident, new)
    outputs = {
        "__hits__": len(hits),
        "__new_hits__": len(new),
        "__hit_values__": [h.value for h in hits],
        "__new_hit_values__": [h.value for h in new],
        "__incident_reference__": incident.reference if incident is not None else "",
    }
    if incident is not None and call.run.incident_id is None:
        call.run.incident_id = incident.id
    result = f"{len(hits)} hit(s), {len(new)} new"
    if new and incident is not None:
        result += f", in {incident.reference}"
    return CommandOutcome(outputs=outputs, result=result)


def _argument(call: CommandCall, name: str, default: bool) -> bool:
    value = (call.command.get("arguments") or {}).get(name, default)
    if isinstance(value, str):  # a substituted variable
        return value.strip().lower() not in ("false", "0", "no", "")
    return bool(value)


def _new_hits(session: Session, organisation: Organisation, hits: list[Hit]) -> list[Hit]:
    if not hits:
        return []
    rows = session.execute(
        select(ExposureHit.kind, ExposureHit.value).where(
            ExposureHit.organisation_id == organisation.id
        )
    )
    known = {(kind, value) for kind, value in rows}
    return [h for h in hits if (h.kind, h.value) not in known]


def source_ref(day: dt.date) -> str:
    return f"exposure-check:{day.isoformat()}"


def _day_incident(session: Session, organisation: Organisation, day: dt.date) -> Incident | None:
    return session.scalar(
        select(Incident)
        .where(Incident.organisation_id == organisation.id, Incident.source_ref == source_ref(day))
        .order_by(Incident.id)
        .limit(1)
    )


def _report(
    session: Session,
    call: CommandCall,
    organisation: Organisation,
    incident: Incident | None,
    new: list[Hit],
    day: dt.date,
) -> Incident:
    """The day's incident, opened with ``new`` or extended by them."""
    if incident is None:
        lines = [f"- {h.value} ({h.kind})" for h in new]  # not the asset: no observable
        data = IncidentSubmission(
            title=f"Exposure check {day.isoformat()}: {organisation.slug}",
            description="Registered assets found in the indicator index:\n" + "\n".join(lines),
            category=CATEGORY,
            tlp=TLP,
            affected_assets=sorted({h.asset for h in new}),
            observables=[ObservableIn(type=o.type.value, value=o.value) for o in _observables(new)],
            source_ref=source_ref(day),
            organisation=organisation.slug,
        )
        intake = call.settings.intake
        return submit_incident(session, call.actor, data, clock=call.clock, settings=intake)
    add_observables(session, incident, [(o, SOURCE) for o in _observables(new)], clock=call.clock)
    add_event(session, incident, call.actor, "exposure_hits", clock=call.clock,
              data={"values": [h.value for h in new]})  # fmt: skip
    session.flush()
    return incident


def _observables(hits: list[Hit]) -> list[Observable]:
    found: list[Observable] = []
    for hit in hits:
        try:
            found.append(canonicalise_observable(hit.kind, hit.value))
        except ValueError:  # a network: listed in the description and the e-mail only
            continue
    return found


def _notify(
    session: Session,
    call: CommandCall,
    organisation: Organisation,
    incident: Incident,
    new: list[Hit],
) -> None:
    lines: list[mailing.Line] = [
        N_(
            "Our exposure check found the following assets of %(organisation)s in threat "
            "intelligence (incident %(reference)s):",
            organisation=organisation.name,
            reference=incident.reference,
        ),  # fmt: skip
        "",
        *(f"- {h.value} ({h.asset})" for h in new),
        "",
        N_("Please check these systems and tell us what you find."),
    ]
    subject = N_("[%(reference)s] Exposure of your assets", reference=incident.reference)
    for email, locale in mailing.organisation_contacts(organisation):
        mailing.queue(session, to=email, locale=locale, subject=subject, lines=lines,
                      tlp=incident.tlp, related=("incident", incident.reference),
                      clock=call.clock, mail_domain=call.settings.intake.mail_domain)  # fmt: skip


register("x-vigie:exposure-check", exposure_check)
