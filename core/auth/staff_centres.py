"""The centres an account is in follow its role (kernel, Flask-free): CERT staff work in
vigilance centres, reporters in none. :func:`core.auth.services.create_user` makes a new CERT
account :func:`join` one, :func:`core.auth.services.update_user` calls :func:`follow_role` when
an administrator moves an account across that line."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.identity.centres import Centre, CentreMember, DutyShift, national_centre
from core.identity.models import User


def centre_slugs(session: Session, user: User) -> list[str]:
    """The slugs of the centres ``user`` is a member of, sorted."""
    query = (
        select(Centre.slug)
        .join(CentreMember, CentreMember.centre_id == Centre.id)
        .where(CentreMember.user_id == user.id)
        .order_by(Centre.slug)
    )
    return list(session.scalars(query))


def join(session: Session, user: User, centre: Centre | None, *, clock: Clock) -> str:
    """A new CERT account joins ``centre``, by default the national coordination centre; its
    slug."""
    centre = centre or national_centre(session)
    session.add(CentreMember(centre_id=centre.id, user_id=user.id, added_at=clock.now()))
    return centre.slug


def follow_role(session: Session, user: User, *, clock: Clock) -> tuple[list[str], list[str]]:
    """A reporter who became CERT staff joins the national centre (as
    :func:`core.auth.services.create_user` makes them) unless in a centre already; CERT staff
    who became a reporter leave every centre, and their shifts still to come leave the rotas.
    The centres (slugs) before and after."""
    before = centre_slugs(session, user)
    if user.is_cert_staff:
        if not before:
            join(session, user, None, clock=clock)
    else:
        session.execute(delete(CentreMember).where(CentreMember.user_id == user.id))
        session.execute(
            delete(DutyShift).where(DutyShift.user_id == user.id, DutyShift.ends_at > clock.now())
        )
    session.flush()
    return before, centre_slugs(session, user)
