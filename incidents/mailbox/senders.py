"""Who wrote a received message, as far as Vigie knows (Flask-free read side).

A sender is known by the address of ``From`` (lower-cased by the parser), compared without
regard to case:

* an **active account** with that address acts as itself (:meth:`Actor.for_user`) — a CERT
  account is not a reporter: its messages are held (``staff_sender``), the web UI is its way;
* else each **organisation whose registered contacts** (``contact_emails``) hold the address: one
  makes the sender a reporter of it (:meth:`Actor.contact`); several make it ambiguous unless a
  thread names the incident, whose organisation then decides (:func:`acting_for`) — a thread
  also lets an account of one ministry answer for another that registered its address.

A sender address alone proves nothing: the DMARC verdict is checked before (``processing``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from core.identity.authz import Actor
from core.identity.models import Organisation, User
from incidents.models import Incident


@dataclass(frozen=True)
class Sender:
    address: str  # lower-cased
    user: User | None = None  # an active account with that address
    contact_of: tuple[int, ...] = ()  # organisations registering the address as a contact

    @property
    def staff(self) -> bool:
        return self.user is not None and self.user.is_cert_staff

    @property
    def known(self) -> bool:
        return self.user is not None or bool(self.contact_of)

    @property
    def ambiguous(self) -> bool:
        return self.user is None and len(self.contact_of) > 1

    @property
    def organisation_id(self) -> int | None:
        """The one organisation the sender stands for (None: unknown, staff or ambiguous)."""
        if self.user is not None:
            return None if self.staff else self.user.organisation_id
        return self.contact_of[0] if len(self.contact_of) == 1 else None

    def actor(self) -> Actor | None:
        """The sender acting for its one organisation, or None (see :attr:`organisation_id`)."""
        if self.user is not None:
            return None if self.staff else Actor.for_user(self.user)
        organisation_id = self.organisation_id
        return None if organisation_id is None else Actor.contact(self.address, organisation_id)


def identify(session: Session, address: str | None) -> Sender:
    """The sender of address ``address`` (see the module docstring): its account, and the
    organisations registering it as a contact (an account of one ministry may also be a
    registered contact of another); two queries."""
    if not address:
        return Sender("")
    wanted = address.strip().lower()
    user = session.scalar(
        select(User).where(User.email == wanted, User.is_active.is_(True))  # stored lower-case
    )
    return Sender(wanted, user=user, contact_of=_contact_of(session, wanted))


def _contact_of(session: Session, address: str) -> tuple[int, ...]:
    """The organisations registering ``address`` (case-insensitive), by id. The JSON lists are
    narrowed in SQL by their text (both databases store them as JSON text: an ASCII address
    without quotes or backslashes appears as written), then compared exactly."""
    query = select(Organisation.id, Organisation.contact_emails).order_by(Organisation.id)
    if address.isascii() and '"' not in address and "\\" not in address:
        as_text = func.lower(cast(Organisation.contact_emails, Text))
        query = query.where(as_text.contains(f'"{address}"', autoescape=True))
    return tuple(
        org_id
        for org_id, emails in session.execute(query)
        if any(str(e).strip().lower() == address for e in emails or ())
    )


def acting_for(sender: Sender, incident: Incident) -> Actor | None:
    """The sender acting for ``incident``'s organisation, or None when it is not of it: a user
    of that organisation (as itself), one of its registered contacts, or the incident's own
    contact address (a CERT account is never a reporter)."""
    if sender.staff or not sender.address:
        return None
    if sender.user is not None and sender.user.organisation_id == incident.organisation_id:
        return Actor.for_user(sender.user)
    own_contact = (incident.contact_email or "").strip().lower() == sender.address
    if incident.organisation_id in sender.contact_of or own_contact:
        return Actor.contact(sender.address, incident.organisation_id)
    return None


__all__ = ["Sender", "acting_for", "identify"]
