"""``GET /api/v1/centres`` (API kit, kernel side: CERT staff): the vigilance centres, the
national one first — names, whether national, constituency and how many active members. Who is
on duty is not part of it (the pages and ``cert centres list`` show it)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from pydantic import BaseModel, Field
from sqlalchemy import select

from core.api.openapi import Reply, operation
from core.auth.centre_members import board
from core.identity.authz import require
from core.identity.centres import Centre
from core.identity.models import Role
from core.web import context, fetch_page, get_session, page_url
from core.web.auth import current_actor


class ConstituencyOut(BaseModel):
    organisations: list[str] = Field(description="Slugs of the organisations it answers for")
    sectors: list[str]
    regions: list[str]
    categories: list[str] = Field(
        description="RSIT class ids it specialises in (none: every class)"
    )


class CentreOut(BaseModel):
    slug: str
    name: str = Field(description="French (official) name")
    name_ar: str | None
    national: bool = Field(description="The national coordination centre: every constituent")
    constituency: ConstituencyOut = Field(description="Empty lists for the national centre")
    members: int = Field(description="Active members")
    timezone: str = Field(description="IANA time zone of its working hours and rota")


@operation(
    summary="List the vigilance centres",
    description="The national coordination centre first, then by slug: names, constituency "
    "(organisations, sectors, regions, RSIT classes) and how many active members each has. "
    "An incident arrives in the most specific centre for it, the national one last. CERT "
    "staff only.",
    tag="centres",
    replies={200: Reply("One page of centres", CentreOut, paginated=True)},
    errors=(403, 422),
)
def index() -> Any:
    from core.api import page_params  # the kit's package imports this module

    require(current_actor(), Role.ANALYST, "the centres")
    limit, offset = page_params()
    query = select(Centre).order_by(Centre.is_national.desc(), Centre.slug)
    page = fetch_page(query, limit=limit, offset=offset)
    seen = board(get_session(), page.items, context().clock.now())
    items = [
        CentreOut(
            slug=c.slug,
            name=c.name,
            name_ar=c.name_ar,
            national=c.is_national,
            constituency=ConstituencyOut(
                organisations=seen.organisations[c.id],
                sectors=list(c.sectors or ()),
                regions=list(c.regions or ()),
                categories=list(c.categories or ()),
            ),
            members=seen.members[c.id],
            timezone=c.timezone,
        ).model_dump(mode="json")
        for c in page.items
    ]
    next_url = page_url(limit=limit, offset=offset + limit) if page.has_next else None
    return jsonify({"items": items, "total": page.total, "next": next_url})
