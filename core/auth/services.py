"""Accounts use cases (kernel): users, passwords and sign-in; organisations are in
:mod:`core.auth.organisations`, API tokens in :mod:`core.auth.tokens`, links to set a password
in :mod:`core.auth.resets`.

Plain functions taking a ``Session``; they validate, change state, flush and audit. The caller
commits. Passwords are Argon2id hashes. The CLI (``cert users …``) and the administration pages
call the same functions. The reasons of a ``ValidationFailed`` are English phrases marked for
translation (``N_``): the CLI shows them as they are, the pages translate them.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.auth import hashing, login_guard, mfa, sessions, staff_centres
from core.auth.devices import DeviceCookies
from core.auth.passwords import MIN_LENGTH, WRONG_CURRENT, check_password
from core.clock import Clock
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor, require
from core.identity.centres import Centre
from core.identity.models import Organisation, OrganisationKind, Role, User, UserSession

LOCALES = ("fr", "en", "ar")
MIN_PASSWORD_LENGTH = MIN_LENGTH
NAME_LENGTH = 200  # users.name, organisations.name

BAD_EMAIL = N_("not a valid e-mail address")
EMAIL_TAKEN = N_("an account with this e-mail address already exists")
REQUIRED = N_("required")
TOO_LONG = N_("too long")
BAD_ROLE = N_("not one of the roles")
ROLE_OUTSIDE_CERT = N_(
    "analysts, coordinators and administrators belong to an organisation of the CERT kind"
)
BAD_LOCALE = N_("not one of the languages: fr, en, ar")
OWN_ROLE = N_("you cannot change your own role: ask another administrator")
OWN_ACCOUNT = N_("you cannot deactivate your own account")
LAST_ADMIN = N_("the last active administrator must stay an active administrator")


# ---------------------------------------------------------------- users
def normalise_email(address: str) -> str:
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed(
            f"invalid e-mail address: {exc}", fields={"email": BAD_EMAIL}
        ) from None


def check_password_strength(
    password: str, *, email: str | None = None, name: str | None = None, field: str = "password"
) -> None:
    """The password policy (:mod:`core.auth.passwords`): ``ValidationFailed`` naming ``field``."""
    check_password(password, email=email, name=name, field=field)


def _check_profile(
    errors: dict[str, str], name: str, role: str, organisation: Organisation, locale: str
) -> None:
    """The rules an account's name, role, organisation and language follow, into ``errors``."""
    if not name.strip():
        errors["name"] = REQUIRED
    elif len(name.strip()) > NAME_LENGTH:
        errors["name"] = TOO_LONG
    if role not in set(Role):
        errors["role"] = BAD_ROLE
    elif role != Role.REPORTER and organisation.kind != OrganisationKind.CERT:
        errors["role"] = ROLE_OUTSIDE_CERT
    if locale not in LOCALES:
        errors["locale"] = BAD_LOCALE


def create_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    name: str,
    role: str,
    organisation: Organisation,
    password: str | None,
    locale: str = "fr",
    clock: Clock,
    centre: Centre | None = None,
) -> User:
    """A new active account. Without ``password`` nobody can sign in to it until a link to set
    one is used (:func:`core.auth.resets.send_link`). A CERT user (analyst, lead, admin) becomes
    a member of ``centre``, by default the national coordination centre."""
    require(actor, Role.ADMIN, "creating a user")
    errors: dict[str, str] = {}
    try:
        email = normalise_email(email)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    _check_profile(errors, name, role, organisation, locale)
    if password is not None:
        try:
            check_password_strength(password, email=email, name=name)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed("invalid user", fields=errors)
    if find_user(session, email) is not None:
        raise Conflict(f"a user with e-mail {email} already exists", fields={"email": EMAIL_TAKEN})
    now = clock.now()
    user = User(
        email=email,
        name=name.strip(),
        role=Role(role),
        organisation_id=organisation.id,
        organisation=organisation,
        password_hash=hashing.hash_password(password) if password else None,
        locale=locale,
        is_active=True,
        session_nonce=secrets.token_hex(16),
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():  # the same address created at the same moment elsewhere
            session.add(user)
    except IntegrityError:
        raise Conflict(
            f"a user with e-mail {email} already exists", fields={"email": EMAIL_TAKEN}
        ) from None
    after = {"email": email, "role": role, "organisation": organisation.slug}
    if user.is_cert_staff:
        after["centre"] = staff_centres.join(session, user, centre, clock=clock)
    audit.record(
        session, actor, AccountAction.USER_CREATE, "user", user.id, clock=clock, after=after
    )
    return user


def update_user(
    session: Session,
    actor: Actor,
    user: User,
    *,
    name: str,
    role: str,
    organisation: Organisation,
    locale: str,
    clock: Clock,
) -> bool:
    """An administrator changes an account's name, role, organisation and language (audited
    with what changed); whether anything did. Administrators do not change their own role, and
    the last active administrator stays one. Centres follow the role (:mod:`.staff_centres`)."""
    require(actor, Role.ADMIN, "changing a user")
    errors: dict[str, str] = {}
    _check_profile(errors, name, role, organisation, locale)
    if "role" not in errors and role != user.role:
        if actor.user_id == user.id:
            errors["role"] = OWN_ROLE
        elif user.role == Role.ADMIN and user.is_active and not _other_admins(session, user):
            errors["role"] = LAST_ADMIN
    if errors:
        raise ValidationFailed("invalid user", fields=errors)
    old = _profile(user.name, user.role.value, user.organisation, user.locale)
    new = _profile(name.strip(), role, organisation, locale)
    changed = [key for key in old if old[key] != new[key]]
    if not changed:
        return False
    was_staff = user.is_cert_staff
    user.name, user.role, user.locale = new["name"], Role(role), locale
    user.organisation_id, user.organisation = organisation.id, organisation
    user.updated_at = clock.now()
    before: dict[str, object] = {key: old[key] for key in changed}
    after: dict[str, object] = {key: new[key] for key in changed}
    if user.is_cert_staff != was_staff:
        before["centres"], after["centres"] = staff_centres.follow_role(session, user, clock=clock)
    audit.record(
        session,
        actor,
        AccountAction.USER_UPDATE,
        "user",
        user.id,
        clock=clock,
        before=before,
        after=after,
    )
    return True


def _profile(name: str, role: str, organisation: Organisation, locale: str) -> dict[str, str]:
    return {"name": name, "role": role, "organisation": organisation.slug, "locale": locale}


def _other_admins(session: Session, user: User) -> int:
    """How many active administrators there are besides ``user``."""
    query = select(func.count()).where(
        User.role == Role.ADMIN, User.is_active.is_(True), User.id != user.id
    )
    return session.scalar(query) or 0


def users_query(
    *,
    q: str | None = None,
    role: str | None = None,
    organisation_id: int | None = None,
    active: bool | None = None,
) -> Select[User]:
    """The accounts matching the administrators' list filters, by e-mail address: ``q`` in the
    name or the address (case-insensitive), a role, an organisation, active or not."""
    query = select(User).order_by(User.email)
    term = (q or "").strip().lower()
    if term:
        query = query.where(
            or_(
                func.lower(User.name).contains(term, autoescape=True),
                User.email.contains(term, autoescape=True),
            )
        )
    if role:
        query = query.where(User.role == role)
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    if active is not None:
        query = query.where(User.is_active.is_(active))
    return query


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def get_user_by_email(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"no user with e-mail {email!r}", fields={"email": "unknown user"})
    return user


def set_password(
    session: Session,
    actor: Actor,
    user: User,
    password: str,
    *,
    clock: Clock,
    keep: UserSession | None = None,
    field: str = "password",
    action: AccountAction = AccountAction.USER_PASSWORD,
) -> None:
    """Change a password; every open web session of the user ends, but ``keep`` (the session of
    a user changing their own password). ``action``: what the audit log calls it."""
    if actor.user_id != user.id:
        require(actor, Role.ADMIN, "changing another user's password")
    check_password_strength(password, email=user.email, name=user.name, field=field)
    user.password_hash = hashing.hash_password(password)
    if keep is None:  # the nonce is in every session's key: rotating it ends them all
        user.session_nonce = secrets.token_hex(16)
    user.updated_at = clock.now()
    audit.record(session, actor, action, "user", user.id, clock=clock)
    sessions.end_user_sessions(
        session, actor, user, reason=sessions.EndReason.PASSWORD, clock=clock, keep=keep
    )


def change_own_password(
    session: Session,
    actor: Actor,
    user: User,
    *,
    current: str,
    new: str,
    keep: UserSession | None,
    clock: Clock,
) -> None:
    """The user's own change: the current password first (a failure is audited), then the
    policy; the user's other sessions end, ``keep`` (this one) stays open."""
    if actor.user_id != user.id:
        raise PermissionDenied("only the user changes their own password this way")
    if not _verify(user, current):
        audit.record(
            session, actor, AccountAction.USER_PASSWORD_FAILED, "user", user.id, clock=clock
        )
        raise ValidationFailed(
            "current password incorrect", fields={"current_password": WRONG_CURRENT}
        )
    set_password(session, actor, user, new, clock=clock, keep=keep, field="new_password")


def set_active(session: Session, actor: Actor, user: User, active: bool, *, clock: Clock) -> None:
    """Activate or deactivate an account. A deactivated user cannot sign in, their web sessions
    end and their API tokens stop working (until reactivated). Administrators do not deactivate
    themselves, and the last active administrator stays active."""
    require(actor, Role.ADMIN, "activating or deactivating a user")
    if not active and user.is_active:
        if actor.user_id == user.id:
            raise ValidationFailed("cannot deactivate oneself", fields={"active": OWN_ACCOUNT})
        if user.role == Role.ADMIN and not _other_admins(session, user):
            raise ValidationFailed("last administrator", fields={"active": LAST_ADMIN})
    before = user.is_active
    user.is_active = active
    user.session_nonce = secrets.token_hex(16)
    user.updated_at = clock.now()
    audit.record(
        session,
        actor,
        AccountAction.USER_ACTIVATE if active else AccountAction.USER_DEACTIVATE,
        "user",
        user.id,
        clock=clock,
        before={"is_active": before},
        after={"is_active": active},
    )
    if not active:
        sessions.end_user_sessions(
            session, actor, user, reason=sessions.EndReason.DEACTIVATED, clock=clock
        )


def end_all_sessions(session: Session, actor: Actor, user: User, *, clock: Clock) -> int:
    """An administrator ends every open web session of ``user`` (audited); the count."""
    require(actor, Role.ADMIN, "ending another user's sessions")
    user.session_nonce = secrets.token_hex(16)
    return sessions.end_user_sessions(
        session, actor, user, reason=sessions.EndReason.ENDED_BY_ADMIN, clock=clock
    )


def set_locale(session: Session, actor: Actor, user: User, locale: str, *, clock: Clock) -> None:
    """Change a user's interface and e-mail language (fr, en or ar)."""
    if actor.user_id != user.id:
        require(actor, Role.ADMIN, "changing another user's language")
    if locale not in LOCALES:
        raise ValidationFailed("invalid locale", fields={"locale": BAD_LOCALE})
    if locale == user.locale:
        return
    before = user.locale
    user.locale = locale
    user.updated_at = clock.now()
    audit.record(
        session,
        actor,
        AccountAction.USER_LOCALE,
        "user",
        user.id,
        clock=clock,
        before={"locale": before},
        after={"locale": locale},
    )


def _verify(user: User | None, password: str) -> bool:
    """Argon2 check; an unknown user is checked against a dummy hash (the same time)."""
    return hashing.verify(user.password_hash if user else None, password)


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    ip: str | None,
    clock: Clock,
    devices: DeviceCookies | None = None,
    device_cookie: str | None = None,
    mfa_roles: Collection[str] = (),
) -> User:
    """Check a login. Failures are audited and indistinguishable to the caller.

    The per-account throttle (:mod:`core.auth.throttle`) is keyed on the submitted address,
    known or not; while it runs, even the right password is refused, except from a browser
    whose device cookie (:mod:`core.auth.devices`) is valid for this account: its failures count
    on its own. The password is checked in every case, so that the answer takes the same time.
    """
    user = find_user(session, email)
    ok = _verify(user, password)
    attempt = login_guard.Attempt(
        session, email, user, ip=ip, cookies=devices, device_cookie=device_cookie, clock=clock
    )
    attempt.refuse_while_throttled()
    # password_login false (SSO only, CERT_OIDC_LOCAL_PASSWORDS=0): refused like a wrong password
    if user is None or not (user.is_active and user.password_login and user.password_hash and ok):
        raise attempt.fail()
    attempt.succeed()
    if hashing.needs_rehash(user.password_hash):
        user.password_hash = hashing.hash_password(password)
    user.last_login_at = attempt.now
    actor = Actor.for_user(user, ip=ip)
    after = {**attempt.trusted, **mfa.pending_step(user, mfa_roles)}  # a second factor to come
    audit.record(session, actor, AccountAction.LOGIN, "user", user.id, clock=clock, after=after)
    return user
