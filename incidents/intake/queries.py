"""Read side of incidents: ``select()`` builders for lists and filters (Flask-free).

Organisation isolation is part of the SQL: a reporter's query only ever reaches rows of their own
organisation, so counts, pages and filters can never leak another ministry's incidents.
"""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from core.identity.authz import Actor
from core.identity.models import Organisation
from incidents.access import visible
from incidents.intake.schemas import IncidentFilters
from incidents.models import Incident


def incident_list(actor: Actor, filters: IncidentFilters) -> Select[Incident]:
    """Incidents the actor may see matching ``filters``, newest first (stable order).

    Served by ``ix_incidents_org_received`` (reporters, or staff filtering on an organisation),
    ``ix_incidents_received_at`` (staff) and ``ix_incidents_status_priority``; observables are
    loaded in one extra ``IN`` query per page, the organisation by a join.
    """
    query = select(Incident).options(selectinload(Incident.observables))
    query = query.where(visible(actor))
    if filters.organisation is not None:
        org_id = select(Organisation.id).where(Organisation.slug == filters.organisation)
        query = query.where(Incident.organisation_id == org_id.scalar_subquery())
    for column, value in (
        (Incident.status, filters.status),
        (Incident.priority, filters.priority),
        (Incident.category, filters.category),
        (Incident.type, filters.type),
        (Incident.tlp, filters.tlp),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.received_after is not None:
        query = query.where(Incident.received_at >= filters.received_after)
    if filters.received_before is not None:
        query = query.where(Incident.received_at < filters.received_before)
    if filters.q is not None:
        query = query.where(
            or_(
                Incident.reference.startswith(filters.q.upper(), autoescape=True),
                Incident.title.icontains(filters.q, autoescape=True),
            )
        )
    return query.order_by(Incident.received_at.desc(), Incident.id.desc())
