"""Organisations and their registered assets (kernel): constituents of the CERT.

The CLI (``cert orgs …``) and the administration pages call these functions. The reasons of a
``ValidationFailed`` are English phrases marked for translation (``N_``), as in
:mod:`core.auth.services`. An organisation's ``slug`` is its identifier (queue filters, the CLI,
the API): it is chosen at creation and never changes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.auth.services import NAME_LENGTH, REQUIRED, TOO_LONG, normalise_email
from core.clock import Clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor, require
from core.identity.models import (
    CERT_ROLES,
    AssetKind,
    Organisation,
    OrganisationAsset,
    OrganisationKind,
    Role,
    User,
)

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{4,38}[0-9]$")
MAX_CONTACTS = 10
SECTOR_LENGTH = 64
NOTE_LENGTH = 200

BAD_SLUG = N_("lower-case letters, digits and dashes, 1 to 64 characters")
SLUG_TAKEN = N_("an organisation with this identifier already exists")
BAD_KIND = N_("not one of the kinds of organisation")
BAD_CONTACT = N_("one of the addresses is not a valid e-mail address")
TOO_MANY_CONTACTS = N_("at most 10 addresses")
BAD_PHONE = N_("a telephone number: digits, spaces, + - . ( ), 6 to 40 characters")
STAFF_INSIDE = N_("CERT staff accounts belong to this organisation: it stays of the CERT kind")
BAD_DOMAIN = N_("not a domain name")
BAD_RANGE = N_("not an IP address or a CIDR range")
BAD_ASSET_KIND = N_("not one of the kinds of asset")
ASSET_TAKEN = N_("already registered to this organisation")
TOO_WIDE = N_("too wide a range for one organisation")
WIDEST = {4: 8, 6: 16}  # the shortest prefix length accepted (IPv4 /8, IPv6 /16)


def bilingual_names(errors: dict[str, str], name: str, name_ar: str | None) -> tuple[str, str]:
    """The French name (required) and the Arabic one (optional, "" when none), stripped, each
    at most :data:`NAME_LENGTH` characters, into ``errors`` (organisations and centres)."""
    name, name_ar = name.strip(), (name_ar or "").strip()
    if not name:
        errors["name"] = REQUIRED
    elif len(name) > NAME_LENGTH:
        errors["name"] = TOO_LONG
    if len(name_ar) > NAME_LENGTH:
        errors["name_ar"] = TOO_LONG
    return name, name_ar


def _details(
    errors: dict[str, str],
    *,
    name: str,
    name_ar: str | None,
    kind: str,
    sector: str | None,
    region: str | None,
    contact_emails: Sequence[str],
    phone: str | None,
) -> dict[str, object]:
    """Check and normalise what an organisation is described by, into ``errors``; the values."""
    name, name_ar = bilingual_names(errors, name, name_ar)
    sector, region = (sector or "").strip(), (region or "").strip()
    phone = " ".join((phone or "").split())
    if kind not in set(OrganisationKind):
        errors["kind"] = BAD_KIND
    if len(sector) > SECTOR_LENGTH:
        errors["sector"] = TOO_LONG
    if len(region) > SECTOR_LENGTH:
        errors["region"] = TOO_LONG
    if phone and not (_PHONE.match(phone) and sum(c.isdigit() for c in phone) >= 6):
        errors["phone"] = BAD_PHONE
    emails = _addresses(errors, contact_emails)
    return {
        "name": name,
        "name_ar": name_ar or None,
        "kind": kind,
        "sector": sector or None,
        "region": region or None,
        "contact_emails": list(dict.fromkeys(emails)),
        "phone": phone or None,
    }


def _addresses(errors: dict[str, str], contact_emails: Sequence[str]) -> list[str]:
    emails: list[str] = []
    for address in (a.strip() for a in contact_emails if a.strip()):
        try:
            emails.append(normalise_email(address))
        except ValidationFailed:
            errors["contact_emails"] = BAD_CONTACT
    if len(emails) > MAX_CONTACTS:
        errors["contact_emails"] = TOO_MANY_CONTACTS
    return emails


def create_organisation(
    session: Session,
    actor: Actor,
    *,
    slug: str,
    name: str,
    kind: str = OrganisationKind.MINISTRY,
    sector: str | None = None,
    region: str | None = None,
    name_ar: str | None = None,
    contact_emails: Sequence[str] = (),
    phone: str | None = None,
    clock: Clock,
) -> Organisation:
    require(actor, Role.ADMIN, "creating an organisation")
    errors: dict[str, str] = {}
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        errors["slug"] = BAD_SLUG
    values = _details(
        errors,
        name=name,
        name_ar=name_ar,
        kind=kind,
        sector=sector,
        region=region,
        contact_emails=contact_emails,
        phone=phone,
    )
    if errors:
        raise ValidationFailed("invalid organisation", fields=errors)
    taken = Conflict(
        f"an organisation with slug {slug!r} already exists", fields={"slug": SLUG_TAKEN}
    )
    if session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        raise taken
    now = clock.now()
    org = Organisation(slug=slug, created_at=now, updated_at=now, **values)
    try:
        with session.begin_nested():  # the same slug created at the same moment elsewhere
            session.add(org)
    except IntegrityError:
        raise taken from None
    audit.record(
        session,
        actor,
        AccountAction.ORGANISATION_CREATE,
        "organisation",
        org.id,
        clock=clock,
        after={
            "slug": org.slug,
            "name": org.name,
            "kind": org.kind,
            "sector": org.sector,
            "region": org.region,
        },
    )
    return org


def update_organisation(
    session: Session,
    actor: Actor,
    org: Organisation,
    *,
    name: str,
    name_ar: str | None,
    kind: str,
    sector: str | None,
    contact_emails: Sequence[str],
    phone: str | None,
    region: str | None,
    clock: Clock,
) -> bool:
    """Change what describes an organisation (not its slug), audited with what changed; whether
    anything did. An organisation with CERT staff accounts stays of the CERT kind."""
    require(actor, Role.ADMIN, "changing an organisation")
    errors: dict[str, str] = {}
    values = _details(
        errors,
        name=name,
        name_ar=name_ar,
        kind=kind,
        sector=sector,
        region=region,
        contact_emails=contact_emails,
        phone=phone,
    )
    if "kind" not in errors and org.kind == OrganisationKind.CERT and kind != org.kind:
        staff = select(User.id).where(User.organisation_id == org.id, User.role.in_(CERT_ROLES))
        if session.scalar(staff.limit(1)) is not None:
            errors["kind"] = STAFF_INSIDE
    if errors:
        raise ValidationFailed("invalid organisation", fields=errors)
    before = {key: getattr(org, key) for key in values}
    changed = [key for key, value in values.items() if before[key] != value]
    if not changed:
        return False
    for key in changed:
        setattr(org, key, OrganisationKind(str(values[key])) if key == "kind" else values[key])
    org.updated_at = clock.now()
    audit.record(
        session,
        actor,
        AccountAction.ORGANISATION_UPDATE,
        "organisation",
        org.id,
        clock=clock,
        before={key: before[key] for key in changed},
        after={key: values[key] for key in changed},
    )
    return True


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
    note = (note or "").strip()
    if len(note) > NOTE_LENGTH:
        raise ValidationFailed("note too long", fields={"note": TOO_LONG})
    exists = session.scalar(
        select(OrganisationAsset.id).where(
            OrganisationAsset.organisation_id == organisation.id,
            OrganisationAsset.kind == kind,
            OrganisationAsset.value == value,
        )
    )
    taken = Conflict(
        f"{value} is already registered to {organisation.slug}", fields={"value": ASSET_TAKEN}
    )
    if exists is not None:
        raise taken
    asset = OrganisationAsset(
        organisation_id=organisation.id,
        kind=AssetKind(kind),
        value=value,
        note=note or None,
        created_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(asset)
    except IntegrityError:
        raise taken from None
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


def remove_asset(
    session: Session, actor: Actor, organisation: Organisation, asset_id: int, *, clock: Clock
) -> OrganisationAsset:
    """Unregister one of the organisation's assets (audited); ``NotFound`` for another's."""
    require(actor, Role.ADMIN, "unregistering an asset")
    asset = session.get(OrganisationAsset, asset_id)
    if asset is None or asset.organisation_id != organisation.id:
        raise NotFound("asset not found")
    session.delete(asset)
    session.flush()
    audit.record(
        session,
        actor,
        AccountAction.ORGANISATION_ASSET_REMOVE,
        "organisation",
        organisation.id,
        clock=clock,
        before={"kind": asset.kind, "value": asset.value},
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
            raise ValidationFailed(f"invalid domain {raw!r}", fields={"value": BAD_DOMAIN})
        return domain
    if kind == AssetKind.IP_RANGE:
        try:
            network = ipaddress.ip_network(raw, strict=False)
        except ValueError:
            raise ValidationFailed(
                f"invalid IP range {raw!r}", fields={"value": BAD_RANGE}
            ) from None
        if network.prefixlen < WIDEST[network.version]:
            raise ValidationFailed(f"IP range {network} too wide", fields={"value": TOO_WIDE})
        return str(network)
    raise ValidationFailed("invalid asset kind", fields={"kind": BAD_ASSET_KIND})


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.slug)))


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("organisation not found")
    return org


def get_organisation_by_slug(session: Session, slug: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.slug == slug.strip().lower()))
    if org is None:
        raise NotFound(f"no organisation with slug {slug!r}", fields={"org": "unknown"})
    return org
