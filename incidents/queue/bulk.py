"""Bulk actions of the queue: one workflow change applied to several incidents (Flask-free).

Each incident goes through the same service as the incident file (``incidents.workspace.workflow``),
so every rule, timeline event and audit row is the same as one by one. The caller owns the
transaction and keeps it **all or nothing**: :func:`apply` returns the error of each incident
that refused the change, and the caller commits only when there is none (else rolls back).

* ``rejected`` and ``duplicate`` take the one ``reason`` (and ``duplicate_of``) given, applied to
  each incident; resolving takes ``assignee`` as the owner of those that have none.
* An assignment that would take incidents away from another analyst (assigned to someone other
  than the actor and the new assignee) is refused with :class:`ConfirmationNeeded`, which says
  how many and from whom, until it is sent again with ``confirmed``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import Conflict, DomainError, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor
from core.identity.models import User
from incidents.access import visible, workable
from incidents.models import Incident
from incidents.settings import IntakeSettings
from incidents.workspace import workflow

ACTIONS = ("assign", "assign_me", "unassign", "status", "priority")
MAX_INCIDENTS = 200


@dataclass(frozen=True)
class BulkAction:
    kind: str  # one of ACTIONS
    assignee: str | None = None  # e-mail (assign; status → resolved: the owner of the unassigned)
    status: str | None = None  # status
    resolution: str | None = None  # status → resolved
    reason: str | None = None  # status (required for rejected, duplicate), priority (required)
    priority: str | None = None  # priority
    duplicate_of: str | None = None  # status → duplicate: the original's reference
    confirmed: bool = False  # assignments: taking incidents from other analysts is confirmed


class ConfirmationNeeded(Conflict):
    """An assignment would take incidents away from other analysts: ``taken`` is their name →
    how many of the chosen incidents they hold (nothing was changed)."""

    def __init__(self, taken: dict[str, int]) -> None:
        count = sum(taken.values())
        super().__init__(
            "confirmation needed",
            fields={
                "confirmed": N_("%(count)d incidents are assigned to other analysts", count=count)
            },
        )
        self.taken = taken


def apply(
    session: Session,
    actor: Actor,
    references: list[str],
    action: BulkAction,
    *,
    clock: Clock,
    settings: IntakeSettings,
) -> dict[str, str]:
    """Apply ``action`` to each incident; ``{reference: problem}`` for those that refused it."""
    workflow.require_staff(actor, "bulk actions")
    wanted = list(dict.fromkeys(r.strip().upper() for r in references if r.strip()))
    if not wanted:
        raise ValidationFailed("no incident chosen", fields={"incidents": N_("choose incidents")})
    if len(wanted) > MAX_INCIDENTS:
        raise ValidationFailed(
            "too many incidents",
            fields={"incidents": N_("at most %(limit)d at once", limit=MAX_INCIDENTS)},
        )
    if action.kind not in ACTIONS:
        raise ValidationFailed(
            "unknown action", fields={"action": N_("one of %(values)s", values=", ".join(ACTIONS))}
        )
    assignee = _assignee(session, actor, action)
    found, read_only = _chosen(session, actor, wanted)
    if action.kind in ("assign", "assign_me", "unassign") and not action.confirmed:
        taken = _taken(session, actor, found.values(), assignee)
        if taken:
            raise ConfirmationNeeded(taken)
    errors: dict[str, str] = {}
    for reference in wanted:
        incident = found.get(reference)
        if incident is None:
            errors[reference] = N_("read-only") if reference in read_only else N_("not found")
            continue
        try:
            _one(session, actor, incident, action, assignee, clock=clock, settings=settings)
        except DomainError as exc:
            errors[reference] = said(exc.fields) or exc.message
    return errors


def _chosen(
    session: Session, actor: Actor, wanted: list[str]
) -> tuple[dict[str, Incident], set[str]]:
    """The chosen incidents the actor works, by reference, and those they only read (shared
    with their centre read-only), in one query; what they may not see is in neither ("not
    found", as everywhere)."""
    rows = session.execute(
        select(Incident, workable(actor).label("workable")).where(
            Incident.reference.in_(wanted), visible(actor)
        )
    )
    found: dict[str, Incident] = {}
    read_only: set[str] = set()
    for incident, may_work in rows:
        if may_work:
            found[incident.reference] = incident
        else:
            read_only.add(incident.reference)
    return found, read_only


FIELDS = {  # the names of a bulk action's fields, as people read them
    "incidents": N_("Incidents"),
    "action": N_("Action"),
    "assignee": N_("Assignee"),
    "status": N_("Status"),
    "resolution": N_("Resolution"),
    "reason": N_("Reason"),
    "duplicate_of": N_("Original incident"),
    "priority": N_("Priority"),
    "confirmed": N_("Confirmation"),
}


def said(fields: dict[str, str]) -> str:
    """A service's field reasons as one translatable sentence: "Reason: required; …"."""
    parts = [
        N_("%(field)s: %(problem)s", field=FIELDS.get(k, k), problem=v) for k, v in fields.items()
    ]
    if not parts:
        return ""
    sentence = parts[0]
    for part in parts[1:]:
        sentence = N_("%(first)s; %(rest)s", first=sentence, rest=part)
    return sentence


def _taken(
    session: Session, actor: Actor, incidents: Iterable[Incident], assignee: User | None
) -> dict[str, int]:
    """Whose incidents the assignment would take: name → count, by name (one query)."""
    keep = {actor.user_id, assignee.id if assignee is not None else None, None}
    holders = Counter(i.assignee_id for i in incidents if i.assignee_id not in keep)
    if not holders:
        return {}
    users = list(session.scalars(select(User).where(User.id.in_(sorted(holders)))))
    names = Counter(u.name or u.email for u in users)
    shown = {  # two analysts of one name are told apart by their e-mail
        u.id: (u.name or u.email) if names[u.name or u.email] == 1 else f"{u.name} <{u.email}>"
        for u in users
    }
    return dict(sorted((shown[u.id], holders[u.id]) for u in users))


def _assignee(session: Session, actor: Actor, action: BulkAction) -> User | None:
    if action.kind == "assign_me":
        return session.get(User, actor.user_id) if actor.user_id is not None else None
    if action.kind == "assign":
        if not action.assignee:
            raise ValidationFailed("assignee required", fields={"assignee": N_("choose someone")})
        return workflow.user_by_email(session, action.assignee)
    if action.kind == "status" and action.assignee:  # the owner of unassigned incidents resolved
        return workflow.user_by_email(session, action.assignee)
    return None


def _one(
    session: Session,
    actor: Actor,
    incident: Incident,
    action: BulkAction,
    assignee: User | None,
    *,
    clock: Clock,
    settings: IntakeSettings,
) -> None:
    if action.kind in ("assign", "assign_me", "unassign"):
        workflow.assign(session, actor, incident, assignee, clock=clock)
    elif action.kind == "status":
        workflow.change_status(
            session, actor, incident, action.status or "", clock=clock, settings=settings,
            resolution=action.resolution, reason=action.reason, duplicate_of=action.duplicate_of,
            assignee=assignee if incident.assignee_id is None else None,
        )  # fmt: skip
    else:
        workflow.set_priority(
            session, actor, incident, action.priority or "", action.reason or "",
            clock=clock, settings=settings,
        )  # fmt: skip
