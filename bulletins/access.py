"""Who may read a bulletin in Vigie (Flask-free): the one rule every page, API answer, export,
archive and feed of the bulletins slice applies (:func:`readable` in SQL, :func:`can_read` for
one bulletin).

* CERT staff (analysts, leads, admins, the system): every bulletin, drafts included;
* an account of a constituent: published bulletins at ``TLP:CLEAR`` or ``TLP:GREEN``; at
  ``TLP:AMBER`` / ``TLP:AMBER+STRICT`` those about its organisation; and any bulletin (RED
  included) that was delivered to its own address;
* nobody signed in: published ``TLP:CLEAR`` bulletins (the public archive and feed).

The TLP and organisations that decide are those of the *last publication*
(``published_tlp``, ``bulletin_published_organisations``), not the live ones: a published
bulletin reopened for a revision that changes its TLP or its organisations keeps its readers
until that revision is published — what they read is the published view anyway.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Session

from bulletins.models import Bulletin, BulletinDelivery, BulletinPublishedOrganisation
from core.identity.authz import Actor
from core.markings import Tlp


def published() -> ColumnElement[bool]:
    """Published at least once (a bulletin reopened for a revision shows its last publication)."""
    return Bulletin.revision > 0


def public() -> ColumnElement[bool]:
    return and_(published(), Bulletin.published_tlp == str(Tlp.CLEAR))


def readable(actor: Actor | None) -> ColumnElement[bool]:
    """The bulletins ``actor`` may read (None: nobody signed in)."""
    if actor is None:
        return public()
    if actor.is_cert_staff:
        return true()
    delivered = exists().where(
        BulletinDelivery.bulletin_id == Bulletin.id,
        BulletinDelivery.email == func.lower(actor.label),
    )
    about_mine = (
        exists().where(
            BulletinPublishedOrganisation.bulletin_id == Bulletin.id,
            BulletinPublishedOrganisation.organisation_id == actor.organisation_id,
        )
        if actor.organisation_id is not None
        else false()
    )
    community = Bulletin.published_tlp.in_([str(Tlp.CLEAR), str(Tlp.GREEN)])
    amber = and_(Bulletin.published_tlp.in_([str(Tlp.AMBER), str(Tlp.AMBER_STRICT)]), about_mine)
    return and_(published(), or_(community, amber, delivered))


def can_read(session: Session, actor: Actor | None, bulletin: Bulletin) -> bool:
    if actor is not None and actor.is_cert_staff:
        return True
    return bool(
        session.scalar(select(Bulletin.id).where(Bulletin.id == bulletin.id, readable(actor)))
    )


def sees_drafts(actor: Actor | None) -> bool:
    """Whether ``actor`` sees unpublished work (drafts, reviews, a revision in progress)."""
    return actor is not None and actor.is_cert_staff
