"""Single sign-on with OpenID Connect (kernel: Flask-free): what a provider's verified claims
give — an account created, linked or updated, or a refusal.

The web adapter (:mod:`cert.accounts.sso`) runs the authorisation code flow with Authlib (state,
nonce, PKCE, the ID token's signature and claims) and hands the claims to
:func:`sign_in_with_claims`, which decides:

* the claims must carry ``sub``, ``email`` and ``email_verified: true``;
* the account is the one linked to ``sub``; else the one with that e-mail address, which gets
  linked (``users.oidc_subject``, audited ``sso.link``) — unless it is linked to another subject,
  or is a local **administrator**: administrators created in Vigie are never linked by e-mail, so
  that whoever controls the provider cannot take over the break-glass accounts (an administrator
  role given by ``CERT_OIDC_ROLE_MAP`` to an account created or linked through the provider is
  kept in step like any other role); else a new account is created, without a password;
* the role claim (``CERT_OIDC_ROLE_CLAIM``) gives the role and organisation through
  ``CERT_OIDC_ROLE_MAP`` (:mod:`core.auth.sso_config`); a linked account follows it at each
  sign-in (audited ``user.update``); when its claims no longer map, a linked account is
  deactivated (its sessions end) and the sign-in refused; an inactive account is refused, and only
  an administrator reactivates it;
* ``CERT_OIDC_LOCAL_PASSWORDS=0``: a linked account's local password is refused from then on
  (``users.password_login``); ``1`` gives it back at the next sign-in through the provider.

Every refusal raises :class:`SsoRefused` after auditing ``sso.refused`` with the reason; the caller
commits either way (the audit row, a deactivation). Success is audited ``sso.login``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.auth import services
from core.auth.sso_config import Grant, SsoSettings, grant_fits
from core.clock import Clock
from core.errors import AuthenticationFailed, Conflict, Message, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor, require
from core.identity.models import Organisation, Role, User

SUBJECT_LENGTH = 255  # users.oidc_subject

MISSING_CLAIMS = N_(
    "The identity provider did not send the identifier and e-mail address Vigie needs."
)
UNVERIFIED = N_("The identity provider has not verified this e-mail address.")
NO_ACCESS = N_("Your account at %(provider)s gives no access to Vigie: ask your CERT contact.")
DEACTIVATED = N_("This Vigie account is deactivated: ask your CERT contact.")
OTHER_SUBJECT = N_(
    "This e-mail address belongs to a Vigie account linked to another identity at "
    "%(provider)s: ask your CERT contact."
)
LOCAL_ADMIN = N_(
    "Administrator accounts created in Vigie are not linked to %(provider)s: sign in with "
    "your password."
)
BAD_ORGANISATION = N_(
    "Vigie's single sign-on settings name an organisation that does not fit: ask your CERT contact."
)
NOT_APPLIED = N_(
    "Your role at %(provider)s could not be applied to your Vigie account: ask your CERT contact."
)
TRY_AGAIN = N_("The sign-in could not be completed. Please try again.")


class SsoRefused(AuthenticationFailed):
    """A sign-in through the provider refused; ``reason`` is for the person (translated by the
    pages), the exception's message for the audit log and the operator."""

    def __init__(self, reason: Message, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def role_values(claims: Mapping[str, Any], claim: str) -> list[str]:
    """The values of ``claim`` (a dotted path reaches into objects): a string or a list of them."""
    value: Any = claims
    for part in claim.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def _name(claims: Mapping[str, Any], email: str) -> str:
    given = " ".join(
        str(claims[key]).strip() for key in ("given_name", "family_name") if claims.get(key)
    )
    for candidate in (claims.get("name"), given, claims.get("preferred_username")):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()[: services.NAME_LENGTH]
    return email.partition("@")[0]


def _locale(claims: Mapping[str, Any]) -> str:
    value = claims.get("locale")
    language = value.replace("_", "-").split("-")[0].lower() if isinstance(value, str) else ""
    return language if language in services.LOCALES else "fr"


class _Attempt:
    """One sign-in: who asks, how refusals are audited."""

    def __init__(self, db: Session, settings: SsoSettings, *, clock: Clock, ip: str | None) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self.actor = Actor(None, "sso", None, None, ip)  # the system, acting on the provider's word
        self.subject = ""
        self.email = ""

    def refuse(
        self, msgid: str, detail: str, user: User | None = None, **params: Any
    ) -> SsoRefused:
        # the subject and address as the provider sent them, bounded (the object id is short)
        where = ("user", user.id) if user is not None else ("sso", "-")
        after = {
            "reason": detail,
            "subject": self.subject[:SUBJECT_LENGTH] or None,
            "email": self.email[:254] or None,
        }
        audit.record(
            self.db, self.actor, AccountAction.SSO_REFUSED, *where, clock=self.clock, after=after
        )
        return SsoRefused(Message(msgid, provider=self.settings.provider_name, **params), detail)


def sign_in_with_claims(
    db: Session,
    claims: Mapping[str, Any],
    *,
    settings: SsoSettings,
    clock: Clock,
    ip: str | None,
) -> User:
    """The account the provider's verified ``claims`` sign in (see the module); ``SsoRefused``
    otherwise. Flushes and audits; the caller commits in both cases."""
    attempt = _Attempt(db, settings, clock=clock, ip=ip)
    subject, email = claims.get("sub"), claims.get("email")
    attempt.subject = subject if isinstance(subject, str) else ""
    attempt.email = email if isinstance(email, str) else ""
    if not attempt.subject or len(attempt.subject) > SUBJECT_LENGTH or not attempt.email:
        raise attempt.refuse(MISSING_CLAIMS, "sub or email missing")
    if claims.get("email_verified") not in (True, "true"):
        raise attempt.refuse(UNVERIFIED, "email not verified by the provider")
    try:
        attempt.email = services.normalise_email(attempt.email)
    except ValidationFailed:
        raise attempt.refuse(MISSING_CLAIMS, "invalid email") from None
    user = db.scalar(select(User).where(User.oidc_subject == attempt.subject))
    if user is None:
        user = services.find_user(db, attempt.email)
        # (the same subject here: linked in the meantime by a sign-in racing this one)
        if user is not None and user.oidc_subject not in (None, attempt.subject):
            raise attempt.refuse(OTHER_SUBJECT, "account linked to another subject", user)
    if user is not None and not user.is_active:
        raise attempt.refuse(DEACTIVATED, "account deactivated", user)
    grant = settings.grant_for(role_values(claims, settings.role_claim))
    if grant is None:
        raise _no_access(attempt, user)
    organisation = _organisation_of(attempt, grant, user)  # before anything is written
    if user is None:
        user = _create(attempt, claims, grant, organisation)
    else:
        if user.oidc_subject is None:
            _link(attempt, user)
        _follow(attempt, user, grant, organisation)
    user.password_login = settings.local_passwords
    user.last_login_at = clock.now()
    after = {"subject": attempt.subject, "role": user.role.value}
    after["organisation"] = user.organisation.slug
    audit.record(
        db,
        Actor.for_user(user, ip=ip),
        AccountAction.SSO_LOGIN,
        "user",
        user.id,
        clock=clock,
        after=after,
    )
    return user


def _no_access(attempt: _Attempt, user: User | None) -> SsoRefused:
    """No entry of the map matches: a linked account is deactivated (sessions end)."""
    detail = "no role claim value maps to a Vigie role"
    if user is not None and user.oidc_subject == attempt.subject:
        try:
            services.set_active(attempt.db, attempt.actor, user, False, clock=attempt.clock)
            detail += ": account deactivated"
        except ValidationFailed:  # the last active administrator stays one
            detail += ": last active administrator, kept active"
    return attempt.refuse(NO_ACCESS, detail, user)


def _organisation_of(attempt: _Attempt, grant: Grant, user: User | None) -> Organisation:
    """The entry's organisation; refused (naming it in the audit log) when it does not exist
    or does not fit the role (checked at start-up too, but organisations change)."""
    organisation = attempt.db.scalar(
        select(Organisation).where(Organisation.slug == grant.organisation)
    )
    if organisation is None or not grant_fits(grant, organisation):
        detail = f"CERT_OIDC_ROLE_MAP: organisation {grant.organisation!r} unknown or unfit"
        raise attempt.refuse(BAD_ORGANISATION, detail, user)
    return organisation


def _create(
    attempt: _Attempt, claims: Mapping[str, Any], grant: Grant, organisation: Organisation
) -> User:
    try:
        with attempt.db.begin_nested():
            user = services.create_user(
                attempt.db,
                attempt.actor,
                email=attempt.email,
                name=_name(claims, attempt.email),
                role=grant.role,
                organisation=organisation,
                password=None,
                locale=_locale(claims),
                clock=attempt.clock,
            )
            user.oidc_subject = attempt.subject
            attempt.db.flush()
    except (Conflict, IntegrityError):  # the same person signing in twice at the same moment
        raise attempt.refuse(TRY_AGAIN, "account created concurrently") from None
    except ValidationFailed as exc:
        raise attempt.refuse(NOT_APPLIED, f"account not created: {exc.fields}") from None
    _audit_link(attempt, user, created=True)
    return user


def _link(attempt: _Attempt, user: User) -> None:
    if user.role == Role.ADMIN:
        raise attempt.refuse(LOCAL_ADMIN, "local administrator: not linked by e-mail", user)
    try:
        with attempt.db.begin_nested():
            user.oidc_subject = attempt.subject
            attempt.db.flush()
    except IntegrityError:
        raise attempt.refuse(TRY_AGAIN, "subject linked concurrently") from None
    _audit_link(attempt, user, created=False)


def _audit_link(attempt: _Attempt, user: User, *, created: bool) -> None:
    audit.record(
        attempt.db,
        attempt.actor,
        AccountAction.SSO_LINK,
        "user",
        user.id,
        clock=attempt.clock,
        after={"subject": attempt.subject, "email": user.email, "created": created},
    )


def _follow(attempt: _Attempt, user: User, grant: Grant, organisation: Organisation) -> None:
    """A linked account takes the role and organisation the provider's claims give."""
    if user.role == grant.role and user.organisation_id == organisation.id:
        return
    try:
        services.update_user(
            attempt.db,
            attempt.actor,
            user,
            name=user.name,
            role=grant.role,
            organisation=organisation,
            locale=user.locale,
            clock=attempt.clock,
        )
    except ValidationFailed as exc:
        raise attempt.refuse(NOT_APPLIED, f"role not applied: {exc.fields}", user) from None


def unlink(db: Session, actor: Actor, user: User, *, clock: Clock) -> bool:
    """An administrator removes ``user``'s link to the provider's subject (the person's account
    there was recreated with another subject, or the CERT moves to another provider); whether
    it was linked. The next sign-in through the provider links it again by verified e-mail
    address (administrators excepted, see the module); the local password works again."""
    require(actor, Role.ADMIN, "unlinking an account from the identity provider")
    if user.oidc_subject is None:
        return False
    before = {"subject": user.oidc_subject, "password_login": user.password_login}
    user.oidc_subject, user.password_login = None, True
    user.updated_at = clock.now()
    audit.record(db, actor, AccountAction.SSO_UNLINK, "user", user.id, clock=clock, before=before)
    return True


def record_refusal(
    db: Session, detail: str, *, settings: SsoSettings, clock: Clock, ip: str | None
) -> None:
    """Audit (``sso.refused``) a provider's answer refused before its claims were read: a forged
    state, a wrong nonce, an invalid or expired ID token, an error from the provider."""
    attempt = _Attempt(db, settings, clock=clock, ip=ip)
    attempt.refuse(TRY_AGAIN, detail[:500])
