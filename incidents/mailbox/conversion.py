"""A received message becomes an incident or part of one (Flask-free use cases, flush only).

Used by the automatic decisions (:mod:`.processing`) and by the analysts' decisions on held
messages (:mod:`.held`), so that both create the same incident and the same conversation entry.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.clock import Clock
from core.identity.authz import Actor
from incidents.mailbox.message import ParsedMail
from incidents.mailbox.models import InboundMail
from incidents.models import Incident, IncidentEvent
from incidents.settings import IntakeSettings


def incident_from_mail(
    session: Session,
    actor: Actor,
    mail: InboundMail,
    parsed: ParsedMail,
    *,
    organisation: str | None,
    title: str | None,
    tlp: str | None,
    acknowledge: bool,
    clock: Clock,
    settings: IntakeSettings,
) -> Incident:
    """A new incident through :func:`incidents.intake.service.submit_incident`: the subject
    (cleaned) as title unless ``title``; the text as description; classification left for triage
    (RSIT ``other``/``undetermined``); ``tlp`` or TLP:AMBER; the message's attachments and
    forwarded messages attached (their text mined for observables). ``organisation`` is a slug
    (when ``actor`` is CERT staff; a sender acting for itself reports for its own). With
    ``acknowledge`` the acknowledgement goes to the sender, in reply to the message (its
    Message-ID), so that the next answer threads. Sets ``mail.status``/``incident_id``."""
    raise NotImplementedError  # helper "services" writes it


def answer_from_mail(
    session: Session,
    actor: Actor,
    incident: Incident,
    mail: InboundMail,
    parsed: ParsedMail,
    *,
    clock: Clock,
    settings: IntakeSettings,
) -> IncidentEvent:
    """The message added to ``incident``'s conversation as the reporter's answer (its new text,
    quoted history left out; its attachments), which notifies the assignee. Sets
    ``mail.status``/``incident_id``."""
    raise NotImplementedError  # helper "services" writes it
