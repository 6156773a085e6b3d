"""Organisations and their registered assets (kernel): constituents of the CERT."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.auth.services import normalise_email
from core.clock import Clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.identity.authz import Actor, require
from core.identity.models import AssetKind, Organisation, OrganisationAsset, OrganisationKind, Role

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def create_organisation(
    session: Session,
    actor: Actor,
    *,
    slug: str,
    name: str,
    kind: str = OrganisationKind.MINISTRY,
    sector: str | None = None,
    name_ar: str | None = None,
    contact_emails: Sequence[str] = (),
    clock: Clock,
) -> Organisation:
    require(actor, Role.ADMIN, "creating an organisation")
    errors: dict[str, str] = {}
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        errors["slug"] = "lower-case letters, digits and dashes, 1 to 64 characters"
    if not name.strip():
        errors["name"] = "must not be empty"
    if kind not in set(OrganisationKind):
        errors["kind"] = f"must be one of {', '.join(OrganisationKind)}"
    emails = []
    for address in contact_emails:
        try:
            emails.append(normalise_email(address))
        except ValidationFailed:
            errors["contact_emails"] = f"invalid e-mail address {address!r}"
    if errors:
        raise ValidationFailed("invalid organisation", fields=errors)
    if session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        raise Conflict(
            f"an organisation with slug {slug!r} already exists", fields={"slug": "taken"}
        )
    now = clock.now()
    org = Organisation(
        slug=slug,
        name=name.strip(),
        name_ar=(name_ar or "").strip() or None,
        kind=OrganisationKind(kind),
        sector=(sector or "").strip() or None,
        contact_emails=emails,
        created_at=now,
        updated_at=now,
    )
    session.add(org)
    session.flush()
    audit.record(
        session,
        actor,
        AccountAction.ORGANISATION_CREATE,
        "organisation",
        org.id,
        clock=clock,
        after={"slug": org.slug, "name": org.name, "kind": org.kind, "sector": org.sector},
    )
    return org


def add_asset(
    session: Session,
    actor: Actor,
    organisation: Organisation,
    *,
    kind: str,
    value: str,
    note: str | None = None,
    clock: Clock,
) -> OrganisationAsset:
    """Register a domain or an IP range (CIDR) owned by a constituent, for exposure checks."""
    require(actor, Role.ADMIN, "registering an asset")
    value = canonical_asset(kind, value)
    exists = session.scalar(
        select(OrganisationAsset.id).where(
            OrganisationAsset.organisation_id == organisation.id,
            OrganisationAsset.kind == kind,
            OrganisationAsset.value == value,
        )
    )
    if exists is not None:
        raise Conflict(
            f"{value} is already registered to {organisation.slug}", fields={"value": "taken"}
        )
    asset = OrganisationAsset(
        organisation_id=organisation.id,
        kind=AssetKind(kind),
        value=value,
        note=(note or "").strip() or None,
        created_at=clock.now(),
    )
    session.add(asset)
    session.flush()
    audit.record(
        session,
        actor,
        AccountAction.ORGANISATION_ASSET_ADD,
        "organisation",
        organisation.id,
        clock=clock,
        after={"kind": kind, "value": value},
    )
    return asset


_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def canonical_asset(kind: str, value: str) -> str:
    """Canonical form of an asset value, or ``ValidationFailed`` naming the field."""
    raw = value.strip()
    if kind == AssetKind.DOMAIN:
        try:
            domain = raw.lower().rstrip(".").encode("idna").decode("ascii")
        except UnicodeError:
            domain = ""
        if not _HOSTNAME.match(domain):
            raise ValidationFailed(
                "invalid domain", fields={"value": f"{raw!r} is not a domain name"}
            )
        return domain
    if kind == AssetKind.IP_RANGE:
        try:
            return str(ipaddress.ip_network(raw, strict=False))
        except ValueError:
            raise ValidationFailed(
                "invalid IP range", fields={"value": f"{raw!r} is not an IP address or CIDR range"}
            ) from None
    raise ValidationFailed(
        "invalid asset kind", fields={"kind": f"must be one of {', '.join(AssetKind)}"}
    )


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.slug)))


def get_organisation_by_slug(session: Session, slug: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.slug == slug.strip().lower()))
    if org is None:
        raise NotFound(f"no organisation with slug {slug!r}", fields={"org": "unknown"})
    return org
