"""The x-vigie actions that tell people (Flask-free): ``notify-organisation`` (e-mail to the
organisation's contacts through the outbox, within the incident's TLP), ``notify-assignee`` and
``notify-leads`` (the notification centre: in-app, and e-mail per each user's preference, with
the message as an internal comment on the incident), ``request-bulletin``.

TLP: an e-mail leaves Vigie. ``TLP:RED`` information is for the individual recipients it was
given to, so the organisation's generic contacts never receive a ``TLP:RED`` incident's message:
only its reporter (the reporting user, else the contact person they named) does. Staff
notifications go only to those who may see the incident (:mod:`incidents.notifications.
recipients`: a ``TLP:RED`` incident reaches its assignee, participants and leads).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.events import Event, record_event
from core.i18n import normalise_locale, render_mail
from core.identity.models import Organisation, Role, User
from core.mail import enqueue_mail
from core.markings import DEFAULT_TLP, Tlp
from incidents.access import RED
from incidents.intake.service import add_event
from incidents.models import Incident
from incidents.notifications import recipients
from incidents.notifications.models import EmailMode, Notification, NotificationKind
from incidents.notifications.preferences import email_modes
from incidents.workspace import conversation
from incidents.workspace.mail import Recipient, recipient_of
from playbooks import events
from playbooks.actions.common import ActionError, Invocation, run_label, vigie_action
from playbooks.engine.registry import CommandCall, CommandOutcome

TEMPLATE = "playbooks/email/message"
MAX_SUBJECT = 200


# ---------------------------------------------------------------- the organisation
@vigie_action("notify-organisation")
def notify_organisation(session: Session, inv: Invocation) -> CommandOutcome:
    """One e-mail per contact of the run's organisation, in the contact's language (a user
    with that address: theirs; else French), marked with the incident's TLP."""
    call, organisation, incident = inv.call, inv.call.organisation, inv.call.incident
    if organisation is None:
        raise ActionError("notify-organisation needs a run for an organisation")
    tlp = Tlp(incident.tlp) if incident is not None else DEFAULT_TLP
    people = organisation_recipients(session, organisation, incident)
    if not people:
        if tlp == RED:
            raise ActionError(
                "notify-organisation: the incident is TLP:RED, which only its reporter may "
                "receive, and no reporter address is known"
            )
        raise ActionError(f"notify-organisation: {organisation.slug} has no contact address")
    subject = (inv.text("subject") or "")[:MAX_SUBJECT]
    message = inv.text("message") or ""
    for person in people:
        _mail(session, call, person, subject, message, tlp=tlp, incident=incident)
    if incident is not None:
        for person in people:
            data = {"to": person.address, "subject": subject, "template": "playbook"}
            add_event(session, incident, call.actor, "mail", clock=call.clock, data=data)
    only = " (TLP:RED: the reporter only)" if tlp == RED else ""
    return CommandOutcome(
        outputs={"__notified__": len(people)},
        result=f"{len(people)} e-mail(s) to {organisation.slug}{only}",
    )


def organisation_recipients(
    session: Session, organisation: Organisation, incident: Incident | None
) -> list[Recipient]:
    """Who may receive a message about ``incident`` (or the organisation): every contact
    address, each once — or, for a ``TLP:RED`` incident, its reporter only."""
    if incident is not None and incident.tlp == RED:
        reporter = recipient_of(session, incident)
        return [reporter] if reporter is not None else []
    addresses = list(dict.fromkeys(a.strip().lower() for a in organisation.contact_emails or []))
    users = {
        u.email: u
        for u in session.scalars(select(User).where(User.email.in_(addresses), User.is_active))
    }
    result = []
    for address in addresses:
        user = users.get(address)
        if user is not None:
            result.append(Recipient(address, user.name, normalise_locale(user.locale)))
        else:
            result.append(Recipient(address, "", "fr"))
    return result


def _mail(
    session: Session,
    call: CommandCall,
    person: Recipient,
    subject: str,
    message: str,
    *,
    tlp: Tlp,
    incident: Incident | None,
) -> None:
    reference = incident.reference if incident is not None else None
    rendered_subject, text, html = render_mail(
        "playbooks",
        TEMPLATE,
        person.locale,
        recipient_name=person.name,
        subject=subject,
        message=message,
        reference=reference,
        tlp=tlp.value,
    )
    related = ("incident", reference) if reference else ("playbook-run", call.run.id)
    enqueue_mail(
        session,
        to=person.address,
        subject=rendered_subject,
        text=text,
        html=html,
        language=person.locale,
        tlp=tlp.value,
        related=related,
        clock=call.clock,
        mail_domain=call.settings.intake.mail_domain,
    )


# ---------------------------------------------------------------- CERT staff
@vigie_action("notify-assignee")
def notify_assignee(session: Session, inv: Invocation) -> CommandOutcome:
    """The incident's owner — its assignee, else the leads and the staff on duty, as the
    notification centre decides — is notified; the message is an internal comment."""
    call, incident = inv.call, inv.call.incident
    if incident is None:
        raise ActionError("notify-assignee needs a run on an incident")
    told = tell_staff(
        session, call, incident, recipients.owners(session, incident, at=call.clock.now()), inv
    )
    whom = "the assignee" if incident.assignee_id is not None else "the leads and staff on duty"
    return CommandOutcome(result=f"{len(told)} notified on {incident.reference} ({whom})")


@vigie_action("notify-leads")
def notify_leads(session: Session, inv: Invocation) -> CommandOutcome:
    """Every active lead: notified on the run's incident, or — a run without an incident has
    nothing the notification centre can point at — e-mailed, per their e-mail preference."""
    count = tell_leads(session, inv.call, inv.text("message") or "")
    return CommandOutcome(outputs={"__notified__": count}, result=f"{count} lead(s) notified")


def tell_leads(session: Session, call: CommandCall, message: str) -> int:
    leads = list(
        session.scalars(
            select(User).where(User.is_active, User.role == Role.LEAD).order_by(User.id)
        )
    )
    if call.incident is not None:
        return len(_tell(session, call, call.incident, leads, message))
    modes = email_modes(session, [u.id for u in leads])
    wanted = [u for u in leads if modes[u.id] is not EmailMode.OFF]
    subject = f"Vigie — {run_label(call)}"
    for user in wanted:
        person = Recipient(user.email, user.name, normalise_locale(user.locale))
        _mail(session, call, person, subject, message, tlp=DEFAULT_TLP, incident=None)
    return len(wanted)


def tell_staff(
    session: Session, call: CommandCall, incident: Incident, users: Iterable[User], inv: Invocation
) -> list[User]:
    return _tell(session, call, incident, users, inv.text("message") or "")


def _tell(
    session: Session, call: CommandCall, incident: Incident, users: Iterable[User], message: str
) -> list[User]:
    """The message as an internal comment, and a notification for each of ``users`` who may
    see the incident (e-mailed by the notification centre's mail job, per preference)."""
    told = recipients.told(users, incident, actor_id=call.actor.user_id)
    conversation.add_comment(
        session, call.actor, incident, f"{message}\n\n— {run_label(call)}", clock=call.clock
    )
    modes = email_modes(session, [user.id for user in told])
    session.add_all(
        Notification(
            user_id=user.id,
            incident_id=incident.id,
            kind=NotificationKind.PLAYBOOK,
            deadline=None,
            event_id=None,
            actor_id=None,
            created_at=call.clock.now(),
            read_at=None,
            mail_pending=modes[user.id] is not EmailMode.OFF,
        )
        for user in told
    )
    session.flush()
    return told


# ---------------------------------------------------------------- bulletins
@vigie_action("request-bulletin")
def request_bulletin(session: Session, inv: Invocation) -> CommandOutcome:
    """``playbook.bulletin_requested`` recorded (for the bulletins slice), and the leads told."""
    call = inv.call
    incident, organisation = call.incident, call.organisation
    payload = events.BulletinRequested(
        run_id=call.run.id,
        incident_id=incident.id if incident is not None else None,
        organisation_id=organisation.id if organisation is not None else None,
    )
    event = Event.of(
        events.PlaybookEventName.BULLETIN_REQUESTED,
        payload,
        aggregate=(events.AGGREGATE, call.run.id),
        actor=call.actor,
    )
    record_event(session, event, clock=call.clock)
    about = incident.reference if incident is not None else None
    title = inv.text("title") or (f"alert bulletin about {about}" if about else "alert bulletin")
    why = inv.text("reason")
    message = f"Bulletin draft requested: {title}" + (f" — {why}" if why else "")
    count = tell_leads(session, call, message)
    return CommandOutcome(result=f"bulletin requested ({title}); {count} lead(s) told")
