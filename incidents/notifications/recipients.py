"""Who is told about an incident (Flask-free): CERT staff who may see it, never a reporter.

Duty is per vigilance centre (:func:`core.auth.centres.on_duty`: the members whose shift of the
centre's rota covers the moment, else its standing on-duty members). Leads are told as members
of a centre — a lead in no centre is no longer told of every new incident of the CERT.

* a new incident: its **scope** — the staff on duty of the incident's centre and that centre's
  leads (the national centre's, when the incident's centre has neither);
* an incident's own news (a reporter's answer, an SLA due soon or breached): its **owner**, the
  assignee, or the scope while nobody is assigned;
* an escalation step, a transfer: see :func:`step_people` and :func:`transfer_people`;
* nobody is told of their own action.

Every recipient is checked against :func:`incidents.access.can_see` at the time the
notification is written: a ``TLP:RED`` incident reaches only its assignee, named participants and
leads, whoever is on duty. The actors are built for all recipients at once (their centres in
one query, :func:`core.identity.centres.scopes_of`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from core.auth.centres import leads_of, on_duty
from core.identity.authz import Actor
from core.identity.centres import Centre, national_centre, scopes_of
from core.identity.models import CERT_ROLES, User
from incidents.access import can_see
from incidents.models import Incident
from incidents.rules.escalation_steps import Step


def actors_of(session: Session | None, users: Sequence[User]) -> dict[int, Actor]:
    """Each user as an actor, their centres read in one query (none outside a session: the
    actors then fail closed, as :meth:`Actor.for_user` does)."""
    if session is None:
        return {user.id: Actor.for_user(user) for user in users}
    scopes = scopes_of(session, users)
    return {user.id: Actor.for_user(user, centres=scopes[user.id]) for user in users}


def may_be_told(user: User, incident: Incident, actor: Actor | None = None) -> bool:
    """An active CERT staff member who may see ``incident`` now (``actor``: the user's, when
    already built by :func:`actors_of`)."""
    if not (user.is_active and user.is_cert_staff):
        return False
    return can_see(actor if actor is not None else Actor.for_user(user), incident)


def active_staff(session: Session) -> list[User]:
    """Every active CERT staff member, by id."""
    query = select(User).where(User.is_active, User.role.in_(sorted(CERT_ROLES)))
    return list(session.scalars(query.order_by(User.id)))


def centre_of(session: Session, incident: Incident) -> Centre:
    """The incident's centre (the national one for an incident without, as migration 0037 put
    every older incident)."""
    centre = incident.centre if incident.centre_id is not None else None
    return centre if centre is not None else national_centre(session)


def on_duty_and_leads(
    session: Session, incident: Incident, *, at: dt.datetime
) -> tuple[list[User], list[User]]:
    """The staff on duty of the incident's centre at ``at``, and its leads; the national
    centre's when the incident's centre has nobody on duty and no lead."""
    centre = centre_of(session, incident)
    duty, leads = on_duty(session, centre, at), leads_of(session, centre)
    if not duty and not leads and not centre.is_national:
        national = national_centre(session)
        duty, leads = on_duty(session, national, at), leads_of(session, national)
    return duty, leads


def scope(session: Session, incident: Incident, *, at: dt.datetime) -> list[User]:
    """:func:`on_duty_and_leads`, together."""
    duty, leads = on_duty_and_leads(session, incident, at=at)
    return [*duty, *leads]


def owners(session: Session, incident: Incident, *, at: dt.datetime) -> list[User]:
    """The assignee, else the scope."""
    if incident.assignee_id is not None:
        assignee = session.get(User, incident.assignee_id)
        return [assignee] if assignee is not None else []
    return scope(session, incident, at=at)


def step_people(session: Session, step: Step, centre: Centre, *, at: dt.datetime) -> list[User]:
    """Whom an escalation step tells: ``leads`` — the leads of ``centre`` (the incident's; the
    national centre's when it has none); ``national`` — the national centre's staff on duty
    and leads."""
    if step is Step.LEADS:
        leads = leads_of(session, centre)
        if leads or centre.is_national:
            return leads
        return leads_of(session, national_centre(session))
    national = national_centre(session)
    return [*on_duty(session, national, at), *leads_of(session, national)]


def transfer_people(
    session: Session, incident: Incident, centre: Centre, *, at: dt.datetime, actor_id: int | None
) -> list[User]:
    """Whom a transfer to ``centre`` tells: its staff on duty who may see the incident, else
    (nobody on duty, or none of them may see it: ``TLP:RED``) its leads."""
    told_duty = told(on_duty(session, centre, at), incident, actor_id=actor_id)
    if told_duty:
        return told_duty
    return told(leads_of(session, centre), incident, actor_id=actor_id)


def told(users: Iterable[User], incident: Incident, *, actor_id: int | None) -> list[User]:
    """``users`` who may be told about ``incident``, without the one who acted, once each (in
    their first order)."""
    unique = list({user.id: user for user in users if user.id != actor_id}.values())
    actors: Mapping[int, Actor] = actors_of(object_session(incident), unique)
    return [user for user in unique if may_be_told(user, incident, actors[user.id])]
