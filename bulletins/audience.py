"""Who a bulletin or a digest goes to (Flask-free read model): distribution lists resolved to
recipients with their language and organisation, and the TLP gating of
:mod:`bulletins.rules.gating` applied to them.

* an *organisation* list: the organisation's registered contacts (``contact_emails``: its
  security contacts) and the extra addresses it subscribed (the list's members);
* a *sector* list: the registered contacts of every constituent of the sector;
* *all administrations*: the registered contacts of every constituent (not the CERT);
* a *centre* list: the registered contacts of a vigilance centre's constituency — the
  organisations it names, those of its sectors and of its regions (the national centre: every
  constituent; :func:`core.auth.centres.constituency_clause`);
* a *named* list: its members, individuals chosen by name (the only recipients of TLP:RED).

A recipient's language: the member's own, else that of a Vigie account with the address, else
the list's. Its organisation: the member's, the organisation whose contact it is, or that of a
Vigie account with the address. An address reached through several lists is one recipient
(named if any list names it). Digests leave out addresses that unsubscribed from the list's
digests — never an organisation's registered contact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from bulletins.models import (
    Bulletin,
    BulletinList,
    BulletinOrganisation,
    DistributionList,
    ListKind,
    ListMember,
    ListUnsubscribe,
)
from bulletins.rules.gating import Recipient, refusal
from core.auth.centres import constituency_clause
from core.identity.centres import Centre
from core.identity.models import CERT_ROLES, Organisation, OrganisationKind, User
from core.markings import Tlp, parse_tlp

LANGUAGES = ("fr", "en", "ar")


@dataclass(frozen=True)
class Refused:
    recipient: Recipient
    reason: str


@dataclass(frozen=True)
class Audience:
    """The recipients of a bulletin's publication, and those the TLP refuses."""

    recipients: tuple[Recipient, ...]
    refused: tuple[Refused, ...]

    @property
    def allowed(self) -> bool:
        return not self.refused

    def by_language(self) -> dict[str, list[Recipient]]:
        out: dict[str, list[Recipient]] = {}
        for recipient in self.recipients:
            out.setdefault(recipient.language, []).append(recipient)
        return out


def concerned_ids(session: Session, bulletin_id: int) -> set[int]:
    return set(
        session.scalars(
            select(BulletinOrganisation.organisation_id).where(
                BulletinOrganisation.bulletin_id == bulletin_id
            )
        )
    )


def bulletin_lists(session: Session, bulletin_id: int) -> list[DistributionList]:
    return list(
        session.scalars(
            select(DistributionList)
            .join(BulletinList, BulletinList.list_id == DistributionList.id)
            .where(BulletinList.bulletin_id == bulletin_id)
            .order_by(DistributionList.slug)
        )
    )


def audience_of(session: Session, bulletin: Bulletin) -> Audience:
    """Every recipient of ``bulletin``'s lists, checked against its TLP and organisations."""
    recipients = resolve(session, bulletin_lists(session, bulletin.id))
    return gate(parse_tlp(bulletin.tlp), recipients, concerned_ids(session, bulletin.id))


def gate(tlp: Tlp, recipients: Iterable[Recipient], concerned: set[int]) -> Audience:
    kept: list[Recipient] = []
    refused: list[Refused] = []
    for recipient in recipients:
        reason = refusal(tlp, recipient, concerned)
        if reason is None:
            kept.append(recipient)
        else:
            refused.append(Refused(recipient, reason))
    return Audience(tuple(kept), tuple(refused))


def resolve(
    session: Session, lists: Sequence[DistributionList], *, for_digest: bool = False
) -> list[Recipient]:
    """The recipients of ``lists`` (deduplicated by address, in the lists' order), without the
    addresses that left a list's digests when ``for_digest``."""
    found: dict[str, Recipient] = {}
    for dlist in lists:
        gone = _unsubscribed(session, dlist.id) if for_digest else set()
        for recipient in _of_list(session, dlist):
            if recipient.email in gone and not recipient.security_contact:
                continue
            known = found.get(recipient.email)
            if known is None:
                found[recipient.email] = recipient
            elif recipient.named and not known.named:
                found[recipient.email] = replace(known, named=True)
    languages = {dlist.id: dlist.language for dlist in lists}
    return _with_accounts(session, list(found.values()), languages)


def _of_list(session: Session, dlist: DistributionList) -> list[Recipient]:
    if dlist.kind == ListKind.NAMED:
        return [_member(m, dlist, named=True) for m in dlist.members]
    query = select(Organisation).where(Organisation.kind != OrganisationKind.CERT)
    if dlist.kind == ListKind.ORGANISATION:
        query = select(Organisation).where(Organisation.id == dlist.organisation_id)
    elif dlist.kind == ListKind.SECTOR:
        query = query.where(Organisation.sector == dlist.sector)
    elif dlist.kind == ListKind.CENTRE:
        centre = session.get(Centre, dlist.centre_id) if dlist.centre_id is not None else None
        if centre is None:
            return []
        query = query.where(constituency_clause(centre))
    out: list[Recipient] = []
    for org in session.scalars(query.order_by(Organisation.slug)):
        out.extend(
            Recipient(
                email=address.strip().lower(),
                name=org.name,
                language="",
                organisation_id=org.id,
                list_id=dlist.id,
                named=False,
                security_contact=True,
            )  # fmt: skip
            for address in org.contact_emails
            if address.strip()
        )
    if dlist.kind == ListKind.ORGANISATION:
        out.extend(_member(m, dlist, named=False) for m in dlist.members)
    return out


def _member(member: ListMember, dlist: DistributionList, *, named: bool) -> Recipient:
    organisation_id = member.organisation_id
    if organisation_id is None and dlist.kind == ListKind.ORGANISATION:
        organisation_id = dlist.organisation_id
    return Recipient(email=member.email.lower(), name=member.name,
                     language=member.language or "", organisation_id=organisation_id,
                     list_id=dlist.id, named=named, security_contact=False)  # fmt: skip


def _with_accounts(
    session: Session, recipients: list[Recipient], languages: dict[int, str]
) -> list[Recipient]:
    """Fill each recipient's language and organisation from a Vigie account with its address
    (in one query), and mark the CERT's own staff."""
    emails = [r.email for r in recipients]
    accounts: dict[str, User] = {}
    for chunk in range(0, len(emails), 500):
        accounts.update(
            (u.email, u)
            for u in session.scalars(
                select(User).where(User.email.in_(emails[chunk : chunk + 500]))
            )
        )
    return [_completed(r, accounts.get(r.email), languages) for r in recipients]


def _completed(recipient: Recipient, user: User | None, languages: dict[int, str]) -> Recipient:
    language, organisation_id, staff = recipient.language, recipient.organisation_id, False
    if user is not None and user.is_active:
        language = language or user.locale
        organisation_id = organisation_id or user.organisation_id
        staff = user.role in CERT_ROLES
    if not language and recipient.list_id is not None:
        language = languages.get(recipient.list_id, "fr")
    if language not in LANGUAGES:
        language = "fr"
    return replace(recipient, language=language, organisation_id=organisation_id, cert_staff=staff)


def _unsubscribed(session: Session, list_id: int) -> set[str]:
    return set(
        session.scalars(select(ListUnsubscribe.email).where(ListUnsubscribe.list_id == list_id))
    )
