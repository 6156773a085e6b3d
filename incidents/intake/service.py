"""Incident intake use cases: the web form and ``POST /api/v1/incidents`` both call these.

Services validate, change state and flush; the adapter commits once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core import audit
from core.clock import Clock
from core.errors import NotFound, PermissionDenied, ValidationFailed, reason_of
from core.identity.authz import Actor, check_organisation
from core.identity.centres import constituencies, route
from core.identity.models import Organisation, User
from core.markings import Pap, Tlp
from feeds.index.benign import warning_lists
from incidents import events
from incidents.access import RED, can_see
from incidents.actions import IncidentAction
from incidents.intake.acknowledgement import queue_acknowledgement
from incidents.intake.duplicates import earlier_reports, indicator_values, serialise_source_ref
from incidents.intake.references import next_reference
from incidents.intake.rows import insert_event, insert_incident, insert_observables
from incidents.intake.schemas import IncidentSubmission, ObservableIn
from incidents.intel.enrichment import enrich
from incidents.intel.models import FoundBy
from incidents.models import (
    Incident,
    IncidentEvent,
    IncidentObservable,
    IncidentParticipant,
    IncidentStatus,
)
from incidents.observables.extraction import Observable, canonicalise_observable, extract
from incidents.rules.priority import deadlines, priority_for
from incidents.rules.taxonomy import UnknownClassification, validate_classification
from incidents.settings import IntakeSettings
from incidents.signals import incident_submitted


def submit_incident(
    session: Session,
    actor: Actor,
    data: IncidentSubmission,
    *,
    clock: Clock,
    settings: IntakeSettings,
    in_reply_to: str | None = None,
    acknowledge: bool = True,
) -> Incident:
    """Record a reported incident: reference, classification, priority, SLA, observables.

    The acknowledgement goes to the reporting user, else to the contact address, unless
    ``acknowledge`` is False (an analyst recording a message whose sender must not be written
    to); ``in_reply_to`` is the Message-ID of a report received by e-mail, which the
    acknowledgement answers so that the reporter's next reply threads."""
    organisation = _reporting_organisation(session, actor, data.organisation)
    category, rsit_type = _classification(data)
    explicit = _explicit_observables(data.observables)
    now = clock.now()
    priority = priority_for(data.impact, data.urgency)
    due = deadlines(
        priority,
        now,
        significant=data.significant,
        aware_at=data.detected_at,
        policy=settings.sla_policy,
    )
    found = [(o, "title") for o in extract(data.title)]
    found += [(o, "description") for o in extract(data.description)]
    found += [(o, "api") for o in explicit]
    # Looked up before the new incident is added, so that it cannot find itself; the incident,
    # its observables, event, audit row and acknowledgement are then INSERTed directly.
    serialise_source_ref(session, organisation.id, data.source_ref)
    duplicates = earlier_reports(
        session,
        organisation.id,
        data.source_ref,
        indicator_values(session, (o for o, _ in found)),
        since=now - settings.duplicate_window,
    )
    contact = data.contact
    incident = insert_incident(
        session,
        organisation,
        reference=next_reference(session, settings.reference_prefix, now.year),
        title=data.title,
        description=data.description,
        organisation_id=organisation.id,
        centre_id=route(
            constituencies(session),
            organisation_id=organisation.id,
            sector=organisation.sector,
            region=organisation.region,
            category=category,
        ),
        reporter_id=actor.user_id,
        contact_name=contact.name if contact else None,
        contact_phone=contact.phone if contact else None,
        contact_email=str(contact.email) if contact and contact.email else None,
        detected_at=data.detected_at,
        reported_at=data.reported_at or now,
        received_at=now,
        affected_assets=list(data.affected_assets),
        users_affected=data.users_affected,
        systems_affected=data.systems_affected,
        reporter_state=data.reporter_state,
        actions_taken=data.actions_taken,
        category=category,
        type=rsit_type,
        tlp=Tlp(data.tlp),
        pap=Pap(data.pap),
        impact=data.impact,
        urgency=data.urgency,
        priority=priority,
        priority_reason=None,
        significant=data.significant,
        ack_due_at=due.acknowledge_by,
        resolve_due_at=due.resolve_by,
        early_warning_due_at=due.early_warning_by,
        notification_due_at=due.notification_by,
        final_report_due_at=due.final_report_by,
        acknowledged_at=None,
        resolved_at=None,
        closed_at=None,
        status=IncidentStatus.NEW,
        resolution=None,
        assignee_id=None,
        source_ref=data.source_ref,
        duplicate_of_id=None,
        possible_duplicates=duplicates,
        created_at=now,
        updated_at=now,
    )
    insert_observables(session, incident, found, clock=clock)
    insert_event(
        session,
        incident,
        actor,
        "created",
        clock=clock,
        public=True,
        data={"priority": priority, "category": category, "type": rsit_type},
    )
    audit.record(
        session,
        actor,
        IncidentAction.SUBMIT,
        "incident",
        incident.reference,
        clock=clock,
        after={"organisation": organisation.slug, "priority": priority, "tlp": data.tlp},
    )
    _name_the_recorder(session, actor, incident, clock=clock)
    if acknowledge:
        _acknowledge(session, incident, clock=clock, settings=settings, in_reply_to=in_reply_to)
    submitted = events.Submitted(
        incident_id=incident.id,
        reference=incident.reference,
        organisation_id=organisation.id,
        priority=priority,
        tlp=data.tlp,
        category=category,
        type=rsit_type,
        observable_ids=[o.id for o in incident.observables],
    )
    events.record(
        session, actor, incident, events.IncidentEventName.SUBMITTED, submitted, clock=clock
    )
    # threat context within the submission's transaction: sightings, and the attention rule
    enrich(
        session,
        incident,
        incident.observables,
        found_by=FoundBy.ARRIVAL,
        actor=actor,
        clock=clock,
        settings=settings,
    )
    session.flush()  # whatever the caller left pending (the rows above are written already)
    incident_submitted.send(incident, session=session, actor=actor)
    return incident


def _acknowledge(
    session: Session,
    incident: Incident,
    *,
    clock: Clock,
    settings: IntakeSettings,
    in_reply_to: str | None,
) -> None:
    """Queue the acknowledgement to the reporting user, else to the contact address given."""
    reporter = reporter_of(session, incident)
    if reporter is not None and not reporter.is_cert_staff:
        to, name, locale = reporter.email, reporter.name, reporter.locale
    elif incident.contact_email:
        to, name, locale = incident.contact_email, incident.contact_name or "", "fr"
    else:
        return
    queue_acknowledgement(
        session,
        incident,
        to=to,
        name=name,
        locale=locale,
        base_url=settings.base_url,
        mail_domain=settings.mail_domain,
        timezone=settings.timezone,
        clock=clock,
        in_reply_to=in_reply_to,
    )


def _reporting_organisation(session: Session, actor: Actor, slug: str | None) -> Organisation:
    if actor.is_cert_staff:
        if slug is None:
            raise ValidationFailed(
                "organisation required",
                fields={"organisation": "CERT staff must name the organisation"},
            )
        org = session.scalar(select(Organisation).where(Organisation.slug == slug.strip().lower()))
        if org is None:
            raise ValidationFailed(
                "unknown organisation", fields={"organisation": f"no organisation {slug!r}"}
            )
        return org
    if actor.organisation_id is None:
        raise PermissionDenied("reporting needs an organisation")
    own = session.get(Organisation, actor.organisation_id)
    if slug is not None and (own is None or slug.strip().lower() != own.slug):
        raise ValidationFailed(
            "organisation not allowed",
            fields={"organisation": "reporters report for their own organisation only"},
        )
    return check_organisation(actor, own)


def _classification(data: IncidentSubmission) -> tuple[str, str | None]:
    try:
        return validate_classification(data.category, data.type)
    except UnknownClassification as exc:
        raise ValidationFailed(
            "invalid classification", fields={exc.field: reason_of(exc)}
        ) from None


def _explicit_observables(items: Iterable[ObservableIn]) -> list[Observable]:
    errors: dict[str, str] = {}
    result: list[Observable] = []
    for index, item in enumerate(items):
        try:
            result.append(canonicalise_observable(item.type, item.value))
        except ValueError as exc:
            errors[f"observables[{index}]"] = reason_of(exc)
    if errors:
        raise ValidationFailed("invalid observables", fields=errors)
    return result


def add_observables(
    session: Session, incident: Incident, found: Iterable[tuple[Observable, str]], *, clock: Clock
) -> list[IncidentObservable]:
    """Store each (type, value) once per incident, remembering every place it was found."""
    added = _merge_observables(incident, found, clock=clock)
    session.flush()
    return added


def _merge_observables(
    incident: Incident, found: Iterable[tuple[Observable, str]], *, clock: Clock
) -> list[IncidentObservable]:
    existing = {(o.type, o.value): o for o in incident.observables}
    added: list[IncidentObservable] = []
    for observable, source in found:
        key = (observable.type.value, observable.value)
        row = existing.get(key)
        if row is None:
            row = IncidentObservable(
                type=key[0],
                value=key[1],
                sources=[source],
                tlp=incident.tlp,
                created_at=clock.now(),
                warning_lists=warning_lists(*key),
            )
            incident.observables.append(row)
            existing[key] = row
            added.append(row)
        elif source not in row.sources:
            row.sources = [*row.sources, source]
    return added


def add_event(
    session: Session,
    incident: Incident,
    actor: Actor,
    kind: str,
    *,
    clock: Clock,
    public: bool = False,
    data: Mapping[str, object] | None = None,
) -> IncidentEvent:
    event = IncidentEvent(
        incident=incident,  # its id is set at flush time when the incident is new
        at=clock.now(),
        actor_id=actor.user_id,
        actor_label=actor.label,
        kind=kind,
        public=public,
        data=dict(data or {}),
    )
    session.add(event)
    return event


def _name_the_recorder(session: Session, actor: Actor, incident: Incident, *, clock: Clock) -> None:
    """A CERT user who records an incident that the routing rule sends to a centre they do not
    work becomes a named participant of it (timeline and audit as any participant): they keep
    seeing what they recorded. Not for ``TLP:RED``: whoever records one is told that it stays
    with its assignee, participants and leads, as before centres (:mod:`incidents.access`)."""
    if not actor.is_cert_staff or actor.user_id is None or incident.tlp == RED:
        return
    if can_see(actor, incident):
        return
    joined = IncidentParticipant(
        incident_id=incident.id, user_id=actor.user_id, added_by_id=actor.user_id,
        added_at=clock.now(),
    )  # fmt: skip
    session.add(joined)
    set_committed_value(incident, "participants", [joined])
    data = {"added": actor.label}
    insert_event(session, incident, actor, "participant", clock=clock, public=False, data=data)
    audit.record(
        session, actor, IncidentAction.PARTICIPANT, "incident", incident.reference, clock=clock,
        after=data,
    )  # fmt: skip


def get_incident(session: Session, actor: Actor, reference: str) -> Incident:
    """The incident if the actor may see it, else ``NotFound`` (existence is never revealed)."""
    incident = session.scalar(
        select(Incident).where(Incident.reference == reference.strip().upper())
    )
    if incident is None or not can_see(actor, incident):
        raise NotFound(f"no incident {reference}")
    return incident


def reporter_of(session: Session, incident: Incident) -> User | None:
    return session.get(User, incident.reporter_id) if incident.reporter_id else None
