"""Organisations, users and API tokens (kernel: Flask-free)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, StrEnumType


class OrganisationKind(enum.StrEnum):
    CERT = "cert"
    MINISTRY = "ministry"
    AGENCY = "agency"
    ESTABLISHMENT = "establishment"  # établissement public


class Role(enum.StrEnum):
    REPORTER = "reporter"  # constituent staff
    ANALYST = "analyst"  # CERT SOC analyst
    LEAD = "lead"  # CERT coordinator
    ADMIN = "admin"


CERT_ROLES = frozenset({Role.ANALYST, Role.LEAD, Role.ADMIN})


class AssetKind(enum.StrEnum):
    DOMAIN = "domain"
    IP_RANGE = "ip_range"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))  # French name (official)
    name_ar: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(StrEnumType(OrganisationKind, 16))
    sector: Mapped[str | None] = mapped_column(String(64), index=True)
    region: Mapped[str | None] = mapped_column(String(64), index=True)  # e.g. "casablanca-settat"
    contact_emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    assets: Mapped[list[OrganisationAsset]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="OrganisationAsset.id"
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class OrganisationAsset(Base):
    """A domain or IP range registered to a constituent, used for exposure checks."""

    __tablename__ = "organisation_assets"
    __table_args__ = (
        UniqueConstraint("organisation_id", "kind", "value"),
        Index("ix_organisation_assets_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    kind: Mapped[AssetKind] = mapped_column(StrEnumType(AssetKind, 16))
    value: Mapped[str] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]

    organisation: Mapped[Organisation] = relationship(back_populates="assets")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(StrEnumType(Role, 16))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    is_active: Mapped[bool] = mapped_column(default=True)
    # changes on password change or deactivation, which invalidates every open web session
    session_nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    last_login_at: Mapped[dt.datetime | None]
    # two-factor sign-in (core.auth.mfa): the TOTP secret, sealed with a key derived from
    # CERT_SECRET_KEY (core.sealing); the secret being enrolled, until its first code is typed;
    # the last time step used (a code is never accepted twice)
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_pending_secret: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    mfa_enrolled_at: Mapped[dt.datetime | None]
    # single sign-on (core.auth.sso): the identity provider's subject ("sub") of a linked account;
    # password_login false: the local password is refused (SSO only)
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    password_login: Mapped[bool] = mapped_column(default=True, server_default=true())

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    @property
    def mfa_enrolled(self) -> bool:
        return self.totp_secret is not None and self.mfa_enrolled_at is not None

    @property
    def is_cert_staff(self) -> bool:
        return self.role in CERT_ROLES

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # first characters, to tell tokens apart
    # "read" (GET/HEAD only) or "write" (core.auth.tokens.TokenScope)
    scope: Mapped[str] = mapped_column(String(8), default="write", server_default="write")
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.user.is_active


class UserSession(Base):
    """A web session, server side. The browser's signed cookie carries a random session id; only
    its SHA-256 is stored. Logout, a password change, a deactivation or the user (account page)
    end it; so do the idle timeout and the absolute lifetime (``CERT_SESSION_*``)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]  # refreshed at most once a minute
    client_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))  # truncated
    ended_at: Mapped[dt.datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(32))  # logout, idle, expired, …
    # how the sign-in was proven: "password", "totp", "recovery" (a recovery code), "sso"
    auth_method: Mapped[str | None] = mapped_column(String(16))

    user: Mapped[User] = relationship(lazy="joined")


class MfaRecoveryCode(Base):
    """One of a user's ten single-use recovery codes (core.auth.mfa): only its SHA-256 is stored
    (each code carries 60 random bits); ``used_at`` is set when it is used, once."""

    __tablename__ = "mfa_recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class PasswordReset(Base):
    """A link to set a password (``/password/reset/<token>``): sent by an administrator (a new
    account, a forgotten password) or asked for on the sign-in page. Only the token's SHA-256 is
    stored; the row is deleted when the link is used, when a newer link is sent to the same user
    and once it has expired (``CERT_PASSWORD_RESET_HOURS``)."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "invite" (new account) or "reset"
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)

    user: Mapped[User] = relationship(lazy="joined")


class LoginThrottle(Base):
    """Failed sign-ins per submitted e-mail address (known or not, so that the throttle does not
    tell which accounts exist); keyed on the SHA-256 of the normalised address."""

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int]
    last_failure_at: Mapped[dt.datetime] = mapped_column(index=True)
    blocked_until: Mapped[dt.datetime | None]
