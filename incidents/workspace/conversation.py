"""Comments and correspondence on an incident (Flask-free use cases).

* **Comments** are internal: CERT staff only, never shown to reporters (``public=False``).
* **Replies** go to the reporter: e-mailed through the outbox and shown on the status page.
* **Reporter answers** come from the status page. A reporter of the incident's organisation may
  answer at any status except ``duplicate`` (its timeline moved to the surviving incident, which
  the error names when the reporter may see it). Answering a resolved, closed or rejected incident
  is allowed and only adds the answer to the timeline — it does not reopen the incident; the
  analysts decide (``incident_reporter_answered`` lets playbooks notify them).

Bodies are written in Markdown and stored as the safe HTML of
:func:`incidents.rules.richtext.render` (raw HTML shown as text, then an nh3 allow-list); pages
render ``data["body"]`` as HTML after cleaning it again (:func:`sanitise`). E-mails to the
reporter carry the HTML and, as their plain text part, the Markdown as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from core import audit
from core.clock import Clock
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor
from incidents import events
from incidents.access import can_see
from incidents.actions import IncidentAction
from incidents.events import IncidentEventName
from incidents.intake.service import add_event
from incidents.models import Incident, IncidentEvent, IncidentStatus
from incidents.rules import richtext
from incidents.settings import IntakeSettings
from incidents.signals import incident_commented, incident_replied, incident_reporter_answered
from incidents.workspace.mail import queue_reply, recipient_of
from incidents.workspace.workflow import require_work

MAX_BODY = 20_000
MAX_TIMELINE = 200
TAGS = richtext.TAGS
URL_SCHEMES = richtext.URL_SCHEMES


def sanitise(body: str) -> str:
    """Stored rich text reduced again to the allow-list of :mod:`incidents.rules.richtext`."""
    return richtext.clean(body)


def _body(body: str, *, plain: bool = False) -> str:
    """The HTML of the Markdown ``body``, or of the plain text ``body`` as written with
    ``plain`` (:func:`incidents.rules.richtext.plain`: an e-mail's text); ``ValidationFailed``
    when empty or too long."""
    if not body.strip():
        raise ValidationFailed("empty message", fields={"body": N_("required")})
    if len(body) > MAX_BODY:
        raise ValidationFailed(
            "message too long", fields={"body": N_("at most %(limit)d characters", limit=MAX_BODY)}
        )
    clean = richtext.plain(body) if plain else richtext.render(body)
    if not clean:
        raise ValidationFailed("empty message", fields={"body": N_("nothing left once sanitised")})
    return clean


def add_comment(
    session: Session, actor: Actor, incident: Incident, body: str, *, clock: Clock
) -> IncidentEvent:
    """An internal note of the CERT (never shown to the reporter)."""
    require_work(actor, incident, "commenting")
    event = _write(
        session, actor, incident, IncidentAction.COMMENT, {"body": _body(body)}, clock=clock
    )
    events.on_timeline(session, actor, incident, IncidentEventName.COMMENTED, event.id, clock=clock)
    incident_commented.send(incident, session=session, actor=actor, event=event)
    return event


def reply_to_reporter(
    session: Session,
    actor: Actor,
    incident: Incident,
    body: str,
    *,
    clock: Clock,
    settings: IntakeSettings,
) -> IncidentEvent:
    """A message to the reporter: e-mailed (the reporting user's address and language, else the
    contact address) and shown on the status page."""
    require_work(actor, incident, "replying to reporters")
    clean = _body(body)
    recipient = recipient_of(session, incident)
    if recipient is None:
        raise ValidationFailed(
            "no reporter address", fields={"to": N_("no e-mail address of the reporter is known")}
        )
    queue_reply(
        session, incident, clean, recipient, settings=settings, clock=clock, text=body.strip()
    )
    data = {"body": clean, "to": recipient.address}
    event = _write(session, actor, incident, IncidentAction.REPLY, data, clock=clock, public=True)
    events.on_timeline(session, actor, incident, IncidentEventName.REPLIED, event.id, clock=clock)
    incident_replied.send(incident, session=session, actor=actor, event=event)
    return event


def check_may_answer(actor: Actor, incident: Incident) -> None:
    """Only the reporting organisation answers on the status page (``NotFound`` for anyone
    else, so that another organisation's reference is not revealed); CERT staff write to the
    reporter with a reply instead (``PermissionDenied``)."""
    if not can_see(actor, incident):
        raise NotFound(f"no incident {incident.reference}")
    if actor.is_cert_staff:
        raise PermissionDenied("CERT staff write to the reporter with a reply")


def reporter_answer(
    session: Session,
    actor: Actor,
    incident: Incident,
    body: str,
    *,
    clock: Clock,
    plain: bool = False,
    via: str | None = None,
) -> IncidentEvent:
    """The reporter's answer from the status page (see the module docstring for the rules).

    ``plain``: ``body`` is plain text shown as written, not Markdown (an e-mail's text);
    ``via``: how it came when not from the page (``"email"``), kept on the event."""
    check_may_answer(actor, incident)
    if incident.status == IncidentStatus.DUPLICATE:
        survivor = (
            session.get(Incident, incident.duplicate_of_id) if incident.duplicate_of_id else None
        )
        reason = (
            N_(
                "this report was merged into another one; answer on %(reference)s",
                reference=survivor.reference,
            )
            if survivor and can_see(actor, survivor)
            else N_("this report was merged into another one")
        )
        raise Conflict("merged incident", fields={"body": reason})
    data = {"body": _body(body, plain=plain)} | ({"via": via} if via else {})
    event = _write(
        session, actor, incident, IncidentAction.REPORTER_REPLY, data, clock=clock, public=True
    )
    events.on_timeline(
        session, actor, incident, IncidentEventName.REPORTER_ANSWERED, event.id, clock=clock
    )
    incident_reporter_answered.send(incident, session=session, actor=actor, event=event)
    return event


def _write(
    session: Session,
    actor: Actor,
    incident: Incident,
    action: IncidentAction,
    data: Mapping[str, Any],
    *,
    clock: Clock,
    public: bool = False,
) -> IncidentEvent:
    incident.updated_at = clock.now()
    event = add_event(session, incident, actor, action.kind, clock=clock, public=public, data=data)
    session.flush()
    audit.record(
        session,
        actor,
        action,
        "incident",
        incident.reference,
        clock=clock,
        after={"event": event.id, "public": public, "length": len(str(data["body"]))},
    )
    return event


def timeline(
    session: Session,
    actor: Actor,
    incident: Incident,
    *,
    public_only: bool,
    limit: int = MAX_TIMELINE,
    before_id: int | None = None,
) -> list[IncidentEvent]:
    """The incident's events, newest first (keyset: pass the last id seen as ``before_id``).
    Reporters always get the public events only."""
    return list(
        session.scalars(
            timeline_query(actor, incident, public_only=public_only, before_id=before_id).limit(
                min(max(limit, 1), MAX_TIMELINE)
            )
        )
    )


def timeline_query(
    actor: Actor, incident: Incident, *, public_only: bool, before_id: int | None = None
) -> Select[IncidentEvent]:
    """The ordered query behind :func:`timeline` (the API paginates it); served by
    ``ix_incident_events_incident_id_id``."""
    if not can_see(actor, incident):
        raise NotFound(f"no incident {incident.reference}")
    query = (
        select(IncidentEvent)
        .options(joinedload(IncidentEvent.actor))  # names without a query per event
        .where(IncidentEvent.incident_id == incident.id)
        .order_by(IncidentEvent.id.desc())
    )
    if public_only or not actor.is_cert_staff:
        query = query.where(IncidentEvent.public.is_(True))
    if before_id is not None:
        query = query.where(IncidentEvent.id < before_id)
    return query
