"""The review x-vigie actions (Flask-free executors) a before-incident playbook runs on a
schedule:

* ``contact-review``: the organisation's contact addresses not confirmed within
  ``max_age_days`` (default 365; ``contact_confirmations``, written by
  :func:`confirm_contacts`) are each asked, in one e-mail, to confirm; ``__unconfirmed__``;
* ``deadline-reminders``: the organisation's open incidents with a regulatory (NIS2-style:
  early warning 24 h, notification 72 h, final report one month — :mod:`incidents.rules.priority`)
  deadline due within ``hours_before`` (default 24): one reminder per recipient — the
  organisation's contacts and each incident's assignee — listing them; ``__reminders__``;
* ``sla-watch``: one message to each lead listing the open incidents past or near an SLA due
  date (the notification centre's reading: :func:`incidents.notifications.sla_watch
  .candidates_query` and ``state_of``, ``within_minutes`` defaulting to
  ``CERT_NOTIFY_DUE_SOON_MINUTES``); ``__breaches__``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.i18n import N_
from core.identity.authz import Actor
from core.identity.models import Organisation, User
from incidents.events import SlaDeadline
from incidents.models import OPEN_STATUSES, Incident
from incidents.notifications.sla_watch import candidates_query, due_at, state_of
from playbooks.actions import mailing
from playbooks.engine.registry import CommandCall, CommandOutcome, register
from playbooks.models import ContactConfirmation

NIS2 = (
    ("early_warning_due_at", N_("NIS2 early warning")),
    ("notification_due_at", N_("NIS2 notification")),
    ("final_report_due_at", N_("NIS2 final report")),
)


def _int_argument(call: CommandCall, name: str, default: int) -> int:
    value = (call.command.get("arguments") or {}).get(name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"arguments.{name}: {value!r} is not a whole number") from None
    if number <= 0:
        raise ValueError(f"arguments.{name}: must be positive, not {number}")
    return number


def _mail_domain(call: CommandCall) -> str:
    return call.settings.intake.mail_domain


# ------------------------------------------------------------------ contact review
def confirm_contacts(
    session: Session, actor: Actor, organisation: Organisation, emails: Iterable[str], *,
    clock: Clock,
) -> list[str]:  # fmt: skip
    """Record that the organisation confirmed these contact addresses now (the ones it has)."""
    known = {e.lower() for e in organisation.contact_emails}
    confirmed = [e for e in dict.fromkeys(x.strip().lower() for x in emails) if e in known]
    rows = {r.email: r for r in _confirmations(session, organisation)}
    for email in confirmed:
        row = rows.get(email)
        if row is None:
            session.add(ContactConfirmation(organisation_id=organisation.id, email=email,
                                            confirmed_at=clock.now()))  # fmt: skip
        else:
            row.confirmed_at = clock.now()
    session.flush()
    return confirmed


def _confirmations(session: Session, organisation: Organisation) -> list[ContactConfirmation]:
    return list(
        session.scalars(
            select(ContactConfirmation).where(
                ContactConfirmation.organisation_id == organisation.id
            )
        )
    )


def unconfirmed_contacts(
    session: Session, organisation: Organisation, *, now: dt.datetime, max_age: dt.timedelta
) -> list[str]:
    confirmed = {r.email: r.confirmed_at for r in _confirmations(session, organisation)}
    return [
        email
        for email in dict.fromkeys(e.lower() for e in organisation.contact_emails)
        if (at := confirmed.get(email)) is None or at < now - max_age
    ]


def contact_review(session: Session, call: CommandCall) -> CommandOutcome:
    organisation = call.organisation
    if organisation is None:
        return CommandOutcome(ok=False, error="contact-review needs the run's organisation")
    try:
        days = _int_argument(call, "max_age_days", 365)
    except ValueError as exc:
        return CommandOutcome(ok=False, error=str(exc))
    now = call.clock.now()
    unconfirmed = unconfirmed_contacts(
        session, organisation, now=now, max_age=dt.timedelta(days=days)
    )
    subject = N_("Please confirm your contact addresses")
    lines: list[mailing.Line] = [
        N_(
            "The CERT keeps these addresses as the contacts of %(organisation)s. Please confirm "
            "that they are still right, or tell us who replaces them:",
            organisation=organisation.name,
        ),  # fmt: skip
        "",
        *(f"- {email}" for email in organisation.contact_emails),
    ]
    for email in unconfirmed:
        mailing.queue(session, to=email, locale=mailing.DEFAULT_LOCALE, subject=subject,
                      lines=lines, tlp=None, related=("organisation", organisation.slug),
                      clock=call.clock, mail_domain=call.settings.intake.mail_domain)  # fmt: skip
    return CommandOutcome(outputs={"__unconfirmed__": len(unconfirmed),
                                   "__unconfirmed_contacts__": unconfirmed},
                          result=f"{len(unconfirmed)} contact(s) asked to confirm")  # fmt: skip


# ------------------------------------------------------------------ deadline reminders
def due_regulatory(
    session: Session, organisation: Organisation, *, now: dt.datetime, within: dt.timedelta
) -> list[tuple[Incident, str, dt.datetime]]:
    """(incident, deadline label msgid, due at) of the organisation's open incidents with a
    regulatory deadline from now to ``within`` ahead, soonest first."""
    columns = [getattr(Incident, name) for name, _ in NIS2]
    found: list[tuple[Incident, str, dt.datetime]] = []
    incidents = session.scalars(
        select(Incident).where(
            Incident.organisation_id == organisation.id,
            Incident.status.in_(sorted(OPEN_STATUSES)),
            or_(*(c.between(now, now + within) for c in columns)),
        )
    )
    for incident in incidents:
        for name, label in NIS2:
            due = getattr(incident, name)
            if due is not None and now <= due <= now + within:
                found.append((incident, label, due))
    return sorted(found, key=lambda f: (f[2], f[0].id))


def deadline_reminders(session: Session, call: CommandCall) -> CommandOutcome:
    organisation = call.organisation
    if organisation is None:
        return CommandOutcome(ok=False, error="deadline-reminders needs the run's organisation")
    try:
        hours = _int_argument(call, "hours_before", 24)
    except ValueError as exc:
        return CommandOutcome(ok=False, error=str(exc))
    due = due_regulatory(
        session, organisation, now=call.clock.now(), within=dt.timedelta(hours=hours)
    )
    reminders = [f"{i.reference} {str(label)} {at.isoformat()}" for i, label, at in due]
    if due:
        recipients = dict(mailing.organisation_contacts(organisation))
        for user in session.scalars(select(User).where(
                User.id.in_({i.assignee_id for i, _, _ in due if i.assignee_id}),
                User.is_active.is_(True))):  # fmt: skip
            recipients.setdefault(user.email, user.locale)
        lines: list[mailing.Line] = [
            N_("These regulatory deadlines are near:"),
            "",
            *(N_("- %(reference)s: %(deadline)s due %(due)s", reference=i.reference,
                 deadline=label, due=at.isoformat()) for i, label, at in due),
        ]  # fmt: skip
        for email, locale in recipients.items():
            mailing.queue(session, to=email, locale=locale,
                          subject=N_("Regulatory deadlines approaching"), lines=lines,
                          tlp=max_tlp(i for i, _, _ in due), related=None,
                          clock=call.clock, mail_domain=_mail_domain(call))  # fmt: skip
    return CommandOutcome(outputs={"__reminders__": len(reminders),
                                   "__reminder_lines__": reminders},
                          result=f"{len(reminders)} deadline(s) reminded")  # fmt: skip


def max_tlp(incidents: Iterable[Incident]) -> str:
    """The strictest TLP of ``incidents`` (the message carries all of them)."""
    order = ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]
    labels = [str(i.tlp) for i in incidents]
    return max(labels, key=lambda t: order.index(t) if t in order else len(order))


# ------------------------------------------------------------------ SLA watch
def sla_breaches(
    session: Session, *, now: dt.datetime, window: dt.timedelta
) -> list[tuple[Incident, SlaDeadline, str, dt.datetime]]:
    """(incident, deadline, "breached"/"due_soon", due at) for every open incident past or near
    a due date (as the notification centre's SLA watch reads them, announced or not)."""
    found = []
    for deadline in SlaDeadline:
        for incident in session.scalars(candidates_query(deadline, now, window)):
            if incident.status not in OPEN_STATUSES:
                continue
            due = due_at(incident, deadline)
            state = state_of(incident.received_at, due, now, window)
            if state is not None:
                found.append((incident, deadline, state.value, due))
    return sorted(found, key=lambda f: (f[3], f[0].id))


def sla_watch(session: Session, call: CommandCall) -> CommandOutcome:
    default = int(call.settings.intake.due_soon.total_seconds() // 60)
    try:
        minutes = _int_argument(call, "within_minutes", default)
    except ValueError as exc:
        return CommandOutcome(ok=False, error=str(exc))
    breaches = sla_breaches(session, now=call.clock.now(), window=dt.timedelta(minutes=minutes))
    listed = [f"{i.reference} {d.value} {s} {at.isoformat()}" for i, d, s, at in breaches]
    if breaches:
        lines: list[mailing.Line] = [
            N_("Open incidents past or near an SLA due date:"),
            "",
            *(f"- {x}" for x in listed),
        ]
        for lead in mailing.leads(session):
            mailing.queue(session, to=lead.email, locale=lead.locale,
                          subject=N_("SLA watch: %(count)s incident(s)", count=len(breaches)),
                          lines=lines, tlp=max_tlp(i for i, _, _, _ in breaches), related=None,
                          clock=call.clock, mail_domain=_mail_domain(call))  # fmt: skip
    return CommandOutcome(outputs={"__breaches__": len(listed),
                                   "__breach_lines__": listed},
                          result=f"{len(listed)} SLA due date(s) past or near")  # fmt: skip


register("x-vigie:contact-review", contact_review)
register("x-vigie:deadline-reminders", deadline_reminders)
register("x-vigie:sla-watch", sla_watch)
