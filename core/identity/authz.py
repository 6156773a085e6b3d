"""Authorisation: the one place that answers "may this actor see / change this?" (kernel).

Views, API routes, exports and jobs all ask these functions; domain packages add their own
``access_*`` helpers built on :class:`Actor` and the predicates here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import object_session

from core.errors import NotFound, PermissionDenied
from core.identity.centres import scope_of
from core.identity.models import CERT_ROLES, Organisation, Role, User

_LOOK_UP: frozenset[int] = frozenset({-1})  # for_user: "read the user's centres"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user (web or API), or the system itself (CLI, scheduler jobs).

    ``centres`` is the vigilance centres whose incidents a CERT user works
    (:func:`core.identity.centres.scope_of`): ``None`` for every centre — leads, admins, members
    of the national centre, the system. :meth:`for_user` reads it; an ``Actor`` built by hand
    (tests) sees every centre unless given one."""

    user_id: int | None
    label: str
    role: Role | None
    organisation_id: int | None
    ip: str | None = None
    centres: frozenset[int] | None = None

    @classmethod
    def for_user(
        cls,
        user: User,
        *,
        ip: str | None = None,
        centres: frozenset[int] | None = _LOOK_UP,
    ) -> Actor:
        """The user as an actor; their centres are read from the user's session unless given
        (:func:`core.identity.centres.scopes_of` for many users at once). A user outside any
        session works no centre's incidents (fails closed)."""
        if centres is _LOOK_UP:
            centres = scope_of(object_session(user), user)
        return cls(user.id, user.email, user.role, user.organisation_id, ip, centres)

    @classmethod
    def system(cls, label: str) -> Actor:
        """CLI commands and scheduler jobs: trusted, audited under ``label``."""
        return cls(None, label, None, None)

    @classmethod
    def contact(cls, address: str, organisation_id: int) -> Actor:
        """A registered contact of an organisation writing by e-mail (no account): acts as a
        reporter of that organisation, audited under its address."""
        return cls(None, address, Role.REPORTER, organisation_id)

    @property
    def is_system(self) -> bool:
        return self.user_id is None and self.role is None

    @property
    def is_cert_staff(self) -> bool:
        return self.is_system or self.role in CERT_ROLES

    def has_role(self, *roles: Role) -> bool:
        return self.is_system or self.role in roles


# Role hierarchy for CERT staff: admin ⊇ lead ⊇ analyst. Reporters are outside it.
_RANK = {Role.REPORTER: 0, Role.ANALYST: 1, Role.LEAD: 2, Role.ADMIN: 3}


def at_least(actor: Actor, role: Role) -> bool:
    """True when the actor's role is ``role`` or above (system actors always qualify)."""
    if actor.is_system:
        return True
    if actor.role is None:
        return False
    if role is Role.REPORTER:
        return True
    return actor.role in CERT_ROLES and _RANK[actor.role] >= _RANK[role]


def require(actor: Actor, role: Role, what: str = "this action") -> None:
    if not at_least(actor, role):
        raise PermissionDenied(f"{what} needs the {role.value} role")


def can_see_organisation(actor: Actor, organisation_id: int) -> bool:
    """CERT staff see every organisation; reporters only their own."""
    return actor.is_cert_staff or actor.organisation_id == organisation_id


def check_organisation(actor: Actor, organisation: Organisation | None) -> Organisation:
    """The organisation if the actor may see it, else ``NotFound`` (never reveal existence)."""
    if organisation is None or not can_see_organisation(actor, organisation.id):
        raise NotFound("organisation not found")
    return organisation


def can_manage_users(actor: Actor) -> bool:
    return at_least(actor, Role.ADMIN)


def can_read_audit(actor: Actor) -> bool:
    return at_least(actor, Role.ADMIN)
