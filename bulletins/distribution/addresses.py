"""The address of a new list member (Flask-free): normalised, not already on the list, and —
for an organisation's own account adding to its own list (self-service) — at one of the
organisation's registered domains, so that self-service cannot send its bulletins outside it."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from bulletins.models import DistributionList, ListMember
from core.i18n import N_
from core.identity.models import AssetKind, OrganisationAsset

BAD_EMAIL = N_("not a valid e-mail address")
EMAIL_TAKEN = N_("this address is already on the list")
OUTSIDE_DOMAINS = N_("an address at one of your organisation's domains")


def member_address(
    session: Session,
    dlist: DistributionList,
    raw: str,
    problems: dict[str, str],
    *,
    lead: bool,
) -> str | None:
    """The new member's address, normalised, or None with the problem under ``email``."""
    address = normalised_email(raw)
    if address is None:
        problems["email"] = BAD_EMAIL
    elif session.scalar(
        select(ListMember.id).where(ListMember.list_id == dlist.id, ListMember.email == address)
    ):
        problems["email"] = EMAIL_TAKEN
    elif not lead and not _at_own_domain(session, dlist, address):
        problems["email"] = OUTSIDE_DOMAINS
    else:
        return address
    return None


def _at_own_domain(session: Session, dlist: DistributionList, address: str) -> bool:
    """Whether ``address`` is at a domain registered to the list's organisation (or under one);
    any address when it has none registered. Self-service cannot send an organisation's
    bulletins outside it."""
    domains = list(
        session.scalars(
            select(OrganisationAsset.value).where(
                OrganisationAsset.organisation_id == dlist.organisation_id,
                OrganisationAsset.kind == AssetKind.DOMAIN,
            )
        )
    )
    host = address.rpartition("@")[2]
    return not domains or any(
        host == d.lower().rstrip(".") or host.endswith("." + d.lower().rstrip(".")) for d in domains
    )


def normalised_email(raw: str) -> str | None:
    """The address in lower case, or None when it is not a valid e-mail address (no DNS)."""
    raw = raw.strip()
    if not raw or len(raw) > 254:
        return None
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None
