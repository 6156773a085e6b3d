"""Single sign-on settings (kernel: Flask-free): the ``CERT_OIDC_*`` variables, checked once.

Single sign-on is off while ``CERT_OIDC_ISSUER`` is empty. When it is set, start-up (the app
factory and every ``cert`` command) requires, or stops with a one-line :class:`ConfigError`
naming the variable:

* ``CERT_OIDC_ISSUER``: an ``https://`` URL (``http://`` only for a loopback host: tests, labs),
  without query or fragment; discovery reads ``<issuer>/.well-known/openid-configuration``;
* ``CERT_OIDC_CLIENT_ID`` and ``CERT_OIDC_CLIENT_SECRET_FILE`` (a readable, non-empty file);
* ``CERT_OIDC_SCOPES`` containing ``openid``; ``CERT_OIDC_ROLE_CLAIM`` a claim name (a dotted
  path such as ``realm_access.roles`` reaches into an object);
* ``CERT_OIDC_ROLE_MAP``: comma-separated ``claim value=role@organisation-slug`` entries, e.g.
  ``cert-analysts=analyst@macert,cert-leads=lead@macert,sante-soc=reporter@min-sante``.

A person whose claim values match several entries (one value named twice, or several values)
gets the **highest** role (admin > lead > analyst > reporter); among entries of that role, the
first one written in ``CERT_OIDC_ROLE_MAP`` gives the organisation. The organisations are
checked against the database by :func:`check_organisations` where a ``cert`` command starts the
web server, and again at each sign-in.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config_values import ConfigError
from core.identity.models import CERT_ROLES, Organisation, OrganisationKind, Role

# highest first: the role a person gets when several entries match
RANK: dict[Role, int] = {Role.ADMIN: 3, Role.LEAD: 2, Role.ANALYST: 1, Role.REPORTER: 0}
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_CLAIM = re.compile(r"^[A-Za-z0-9_:/.-]{1,200}$")
MAX_SECRET_BYTES = 4096


class OidcConfig(Protocol):
    """The ``oidc_*`` fields of :class:`core.config.Config` (not imported: the configuration
    module sits beside ``core.auth``, which must not import it back)."""

    @property
    def oidc_issuer(self) -> str: ...
    @property
    def oidc_client_id(self) -> str: ...
    @property
    def oidc_client_secret_file(self) -> Path | None: ...
    @property
    def oidc_role_claim(self) -> str: ...
    @property
    def oidc_role_map(self) -> str: ...
    @property
    def oidc_provider_name(self) -> str: ...
    @property
    def oidc_scopes(self) -> str: ...
    @property
    def oidc_local_passwords(self) -> bool: ...


@dataclass(frozen=True)
class Grant:
    """What one ``CERT_OIDC_ROLE_MAP`` entry gives: a role in an organisation (its slug)."""

    role: Role
    organisation: str
    position: int  # the entry's place in CERT_OIDC_ROLE_MAP (ties of equal roles: the first)


@dataclass(frozen=True)
class SsoSettings:
    """The checked ``CERT_OIDC_*`` settings (see the module)."""

    issuer: str
    client_id: str
    client_secret: str
    role_claim: str
    role_map: Mapping[str, tuple[Grant, ...]]  # claim value → its entries
    provider_name: str
    scopes: str
    local_passwords: bool

    @property
    def metadata_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def grant_for(self, values: Iterable[str]) -> Grant | None:
        """The entry the claim ``values`` give (highest role, then first written), or None."""
        found = [grant for value in values for grant in self.role_map.get(value, ())]
        if not found:
            return None
        return max(found, key=lambda grant: (RANK[grant.role], -grant.position))

    @property
    def organisations(self) -> set[str]:
        return {grant.organisation for grants in self.role_map.values() for grant in grants}


def parse_role_map(
    raw: str, *, variable: str = "CERT_OIDC_ROLE_MAP"
) -> dict[str, tuple[Grant, ...]]:
    """``value=role@slug[,value=role@slug…]`` → claim value → its entries (see the module)."""
    entries: dict[str, list[Grant]] = {}
    for position, item in enumerate(part.strip() for part in raw.split(",")):
        if not item:
            continue
        value, equals, target = (piece.strip() for piece in item.rpartition("="))
        role_name, at, slug = (piece.strip() for piece in target.partition("@"))
        if not equals or not value or not at:
            raise ConfigError(f"{variable}: expected 'claim value=role@organisation', got {item!r}")
        if role_name.lower() not in set(Role):
            roles = ", ".join(role.value for role in Role)
            raise ConfigError(f"{variable}: unknown role {role_name!r} in {item!r} ({roles})")
        if not _SLUG.match(slug):
            raise ConfigError(
                f"{variable}: {slug!r} in {item!r} is not an organisation identifier "
                "(lower-case letters, digits and dashes)"
            )
        grant = Grant(Role(role_name.lower()), slug, position)
        entries.setdefault(value, []).append(grant)
    if not entries:
        raise ConfigError(
            f"{variable}: required when CERT_OIDC_ISSUER is set "
            "(e.g. cert-analysts=analyst@macert,sante-soc=reporter@min-sante)"
        )
    return {value: tuple(grants) for value, grants in entries.items()}


def _issuer(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"CERT_OIDC_ISSUER: expected an https:// URL, got {raw!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            f"CERT_OIDC_ISSUER: no query, fragment or credentials in the issuer, got {raw!r}"
        )
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ConfigError(
            f"CERT_OIDC_ISSUER: must use https:// (http:// only for a loopback host), got {raw!r}"
        )
    return raw.strip().rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secret(path: Path | None) -> str:
    if path is None:
        raise ConfigError("CERT_OIDC_CLIENT_SECRET_FILE: required when CERT_OIDC_ISSUER is set")
    try:
        data = path.read_bytes()[: MAX_SECRET_BYTES + 1]
    except OSError as exc:
        raise ConfigError(
            f"CERT_OIDC_CLIENT_SECRET_FILE: cannot read {path}: {exc.strerror or exc}"
        ) from None
    try:
        secret = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError(f"CERT_OIDC_CLIENT_SECRET_FILE: {path} is not text") from None
    if not secret:
        raise ConfigError(f"CERT_OIDC_CLIENT_SECRET_FILE: {path} is empty")
    if len(data) > MAX_SECRET_BYTES or "\n" in secret:
        raise ConfigError(f"CERT_OIDC_CLIENT_SECRET_FILE: {path} holds more than one secret")
    return secret


def from_config(config: OidcConfig) -> SsoSettings | None:
    """The single sign-on settings, ``None`` when it is off; ``ConfigError`` naming the variable
    when they are incomplete or invalid (the app factory and every ``cert`` command call this)."""
    if not config.oidc_issuer.strip():
        stray = [
            name
            for name, value in (
                ("CERT_OIDC_CLIENT_ID", config.oidc_client_id),
                ("CERT_OIDC_CLIENT_SECRET_FILE", config.oidc_client_secret_file),
                ("CERT_OIDC_ROLE_MAP", config.oidc_role_map),
            )
            if value
        ]
        if stray:
            raise ConfigError(f"CERT_OIDC_ISSUER: required when {stray[0]} is set")
        return None
    issuer = _issuer(config.oidc_issuer)
    client_id = config.oidc_client_id.strip()
    if not client_id:
        raise ConfigError("CERT_OIDC_CLIENT_ID: required when CERT_OIDC_ISSUER is set")
    if "openid" not in config.oidc_scopes.split():
        raise ConfigError(f"CERT_OIDC_SCOPES: must include openid, got {config.oidc_scopes!r}")
    claim = config.oidc_role_claim.strip()
    if not _CLAIM.match(claim) or "" in claim.split("."):
        raise ConfigError(f"CERT_OIDC_ROLE_CLAIM: not a claim name: {config.oidc_role_claim!r}")
    return SsoSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=_secret(config.oidc_client_secret_file),
        role_claim=claim,
        role_map=parse_role_map(config.oidc_role_map),
        provider_name=config.oidc_provider_name.strip() or (urlsplit(issuer).hostname or issuer),
        scopes=" ".join(config.oidc_scopes.split()),
        local_passwords=config.oidc_local_passwords,
    )


def organisation_problem(settings: SsoSettings, found: Mapping[str, Organisation]) -> str | None:
    """What is wrong with the role map's organisations (``found``: slug → organisation), if
    anything: an unknown slug, or a CERT role in an organisation outside the CERT."""
    missing = sorted(settings.organisations - set(found))
    if missing:
        return f"unknown organisation(s) {', '.join(missing)} (create them, or fix the map)"
    for value, grants in settings.role_map.items():
        for grant in grants:
            if not grant_fits(grant, found[grant.organisation]):
                return (
                    f"{value}={grant.role.value}@{grant.organisation}: analysts, coordinators "
                    "and administrators belong to an organisation of the CERT kind"
                )
    return None


def grant_fits(grant: Grant, organisation: Organisation) -> bool:
    """Analysts, coordinators and administrators belong to an organisation of the CERT kind."""
    return grant.role not in CERT_ROLES or organisation.kind == OrganisationKind.CERT


def organisations_of(session: Session, slugs: Iterable[str]) -> dict[str, Organisation]:
    query = select(Organisation).where(Organisation.slug.in_(sorted(set(slugs))))
    return {organisation.slug: organisation for organisation in session.scalars(query)}


def check_organisations(session: Session, settings: SsoSettings | None) -> None:
    """At start-up, with the database reachable: ``ConfigError`` naming ``CERT_OIDC_ROLE_MAP``
    when it names an organisation that does not exist or does not fit the role."""
    if settings is None:
        return
    problem = organisation_problem(settings, organisations_of(session, settings.organisations))
    if problem:
        raise ConfigError(f"CERT_OIDC_ROLE_MAP: {problem}")
