"""Append-only audit log (kernel). Every state change records one row in the same transaction.

The table refuses UPDATE and DELETE at the database level (triggers created by the migration).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import Clock
from core.db import Base
from core.identity.authz import Actor


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(254))  # e-mail, "cli:<user>" or "system:<job>"
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. "user.create"
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))


class AuditAction(enum.StrEnum):
    """Base of the enumerations of audit actions (``"<object>.<what>"``, e.g. ``user.create``).

    It has no member: the kernel (:class:`AccountAction`) and each slice (``incidents.actions``)
    subclass it with their own actions. :func:`record` takes a member of a subclass only, so a
    misspelt action is a type error (mypy) and a plain string a ``TypeError`` at the call. The
    values are what the ``action`` column stores and ``cert audit --action`` filters on: never
    rename one (stored rows keep the old spelling)."""


class AccountAction(AuditAction):
    """The kernel's actions: accounts, sign-in and sessions, API tokens, organisations,
    vigilance centres."""

    USER_CREATE = "user.create"
    USER_PASSWORD = "user.password"  # noqa: S105 (an action, not a secret)
    USER_PASSWORD_FAILED = "user.password_failed"  # noqa: S105 (an action, not a secret)
    USER_ACTIVATE = "user.activate"
    USER_DEACTIVATE = "user.deactivate"
    USER_LOCALE = "user.locale"
    USER_UPDATE = "user.update"  # name, role or organisation changed by an administrator
    USER_RESET_LINK = "user.reset_link"  # a link to set the password sent (admin or self-service)
    USER_RESET_REQUEST = "user.reset_request"  # "forgot my password" asked for an address
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105 (a link used to set the password)
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGIN_THROTTLED = "auth.login_throttled"  # a sign-in refused while the address is throttled
    LOGIN_THROTTLE = "auth.login_throttle"  # the failure that started (or extended) a delay
    DEVICE_REVOKED = "auth.device_revoked"  # a device cookie that failed too often loses its trust
    LOGOUT = "auth.logout"
    SESSION_END = "auth.session_end"
    SESSIONS_END = "auth.sessions_end"
    MFA_ENROL = "mfa.enrol"  # two-factor sign-in turned on (a first code typed)
    MFA_FAILED = "mfa.failed"  # a wrong, replayed or throttled second-factor code
    MFA_THROTTLE = "mfa.throttle"  # the failure that started (or extended) a wait
    MFA_RECOVERY_USED = "mfa.recovery_used"  # a recovery code signed in (used up)
    MFA_RECOVERY_CODES = "mfa.recovery_codes"  # a new set of recovery codes (the old ones void)
    MFA_RESET = "mfa.reset"  # an administrator removed a user's second factor
    MFA_DISABLE = "mfa.disable"  # the user turned two-factor sign-in off (roles not requiring it)
    MFA_SIGNIN = "mfa.signin"  # a sign-in completed by its second factor (after the password)
    SSO_LOGIN = "sso.login"  # a sign-in through the identity provider (OpenID Connect)
    SSO_LINK = "sso.link"  # an account linked to the provider's subject (verified e-mail)
    SSO_REFUSED = "sso.refused"  # a provider's answer refused (state, nonce, token, claims)
    SSO_UNLINK = "sso.unlink"  # an administrator removed an account's link to the provider
    TOKEN_CREATE = "token.create"  # noqa: S105 (an action, not a secret)
    TOKEN_REVOKE = "token.revoke"  # noqa: S105 (an action, not a secret)
    ORGANISATION_CREATE = "organisation.create"
    ORGANISATION_UPDATE = "organisation.update"
    ORGANISATION_ASSET_ADD = "organisation.asset_add"
    ORGANISATION_ASSET_REMOVE = "organisation.asset_remove"
    CENTRE_CREATE = "centre.create"
    CENTRE_UPDATE = "centre.update"  # description or constituency
    CENTRE_MEMBER_ADD = "centre.member_add"
    CENTRE_MEMBER_REMOVE = "centre.member_remove"
    CENTRE_DUTY = "centre.duty"  # a member's standing on-duty flag
    CENTRE_SHIFT_ADD = "centre.shift_add"  # a shift of the rota
    CENTRE_SHIFT_REMOVE = "centre.shift_remove"


def known_actions() -> dict[str, AuditAction]:
    """Every action of every enumeration defined so far (the modules defining them imported),
    by value. ``ValueError`` when two enumerations spell an action the same way."""
    known: dict[str, AuditAction] = {}
    pending = list(AuditAction.__subclasses__())
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        for action in kind:
            other = known.setdefault(action.value, action)
            if other is not action:
                raise ValueError(f"audit action {action.value!r} is defined twice: {other!r}")
    return known


def record(
    session: Session,
    actor: Actor,
    action: AuditAction,
    object_type: str,
    object_id: object,
    *,
    clock: Clock,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Add one audit row to the caller's transaction: one Core INSERT on the session's
    connection (no ORM object, no flush, so it stays cheap on hot paths such as intake). The row
    goes with the transaction: committed with it, or rolled back with it."""
    if not isinstance(action, AuditAction):
        raise TypeError(f"{action!r}: audit actions are members of an AuditAction enumeration")
    values = {
        "at": clock.now(),
        "actor_id": actor.user_id,
        "actor_label": actor.label,
        "action": action.value,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": _jsonable(before),
        "after": _jsonable(after),
        "ip": actor.ip,
    }
    session.connection().execute(insert(AuditEntry.metadata.tables["audit_log"]), values)


def list_entries(
    session: Session,
    *,
    limit: int = 50,
    before_id: int | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_id: int | None = None,
) -> list[AuditEntry]:
    """Newest first, keyset-paginated on ``id`` (pass the last id seen as ``before_id``)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    return list(session.scalars(query))


def _jsonable(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Summaries are JSON: datetimes become ISO text, enums their value, sets sorted lists."""
    if values is None:
        return None
    return {key: _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value
