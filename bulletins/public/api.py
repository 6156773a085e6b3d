"""REST adapter of published bulletins (blueprint ``bulletins_api``, under ``/api/v1``):
``GET /bulletins`` (filters, keyset pages), ``GET /bulletins/<reference>`` (the published view)
and ``GET /bulletins/<reference>.<suffix>`` (a rendition from the formats registry: ``pdf``,
``csaf.json``, ``stix.json``, ``html``, ``txt``). Every answer goes through
:func:`bulletins.public.queries.visible`: what the token's user may not read is a 404, the same
as what does not exist."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from bulletins.blueprints import TAG
from bulletins.blueprints import api as bp
from bulletins.outputs import formats
from bulletins.outputs.view import BulletinView
from bulletins.public import downloads
from bulletins.public.queries import (
    BulletinFilter,
    bulletin_query,
    find_published,
    keyset_page,
    offset_page,
    views_of,
)
from bulletins.public.schemas import BulletinItemOut, BulletinOut, bulletin_out, item_out
from core.api import page_params, parse_query
from core.api.openapi import Reply, operation
from core.errors import NotFound, ValidationFailed
from core.web import get_session, page_url
from core.web.auth import current_actor

REFERENCE = {"reference": "The bulletin's reference, e.g. `MACERT-AVI-2026-0042`"}
RENDITION = REFERENCE | {
    "suffix": "The rendition: `pdf`, `csaf.json`, `stix.json`, `html` or `txt` (those "
    "registered; any other is a 404)"
}
PRIVATE = "private, no-cache"


class RenditionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lang: Literal["fr", "en", "ar"] = Field(
        default="fr", description="The language version (French when the bulletin has none)"
    )


@bp.get("/bulletins")
@operation(
    summary="List bulletins",
    description="Published bulletins the token's user may read (CERT staff: every one; an "
    "organisation: `TLP:CLEAR` and `TLP:GREEN`, `TLP:AMBER` about it, and those delivered to "
    "its user's address), newest first, each as its last revision published it. CERT staff may "
    "list unpublished work with `status`. Pages: follow `next` (a keyset cursor, `after`: rows "
    "neither repeat nor vanish while bulletins are published); `offset` pages by number instead. "
    "An unknown parameter is a 422 naming it.",
    tag=TAG,
    query=BulletinFilter,
    replies={200: Reply("One page of bulletins", BulletinItemOut, paginated=True, keyset=True)},
    errors=(422,),
)
def index() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    f = parse_query(BulletinFilter, paginated=True)
    limit, offset = page_params()
    if "offset" in request.args and (f.after or f.before):
        raise ValidationFailed(
            "invalid query parameters",
            fields={"offset": "give offset or a cursor (after, before), not both"},
        )
    query = bulletin_query(actor, f)
    if "offset" in request.args:
        items, total = offset_page(session, query, limit=limit, offset=offset)
        following = page_url(offset=offset + limit) if offset + limit < total else None
        preceding = page_url(offset=max(0, offset - limit)) if offset else None
    else:
        page = keyset_page(session, query, limit=limit, after=f.after, before=f.before)
        items, total = page.items, page.total
        following = _cursor_url(after=page.next) if page.next else None
        preceding = _cursor_url(before=page.previous) if page.previous else None
    views = views_of(session, items, staff=actor.is_cert_staff)
    body = {
        "items": [_item(view) for view in views],
        "total": total,
        "total_capped": False,
        "next": following,
        "previous": preceding,
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = PRIVATE
    return response


@bp.get("/bulletins/<reference>")
@operation(
    summary="A published bulletin",
    description="Every field of the bulletin as its last revision published it (a revision in "
    "progress never shows): texts per language, revisions, affected systems, CVSS scores, "
    "indicators, and the links to its renditions. 404 when it does not exist, is not published "
    "or the token's user may not read it.",
    tag=TAG,
    path_params=REFERENCE,
    replies={200: Reply("The bulletin", BulletinOut)},
)
def detail(reference: str) -> ResponseReturnValue:
    view = _find(reference)
    found = view.reference or reference
    body = bulletin_out(view, url=_url(found), renditions=_renditions(found))
    response = jsonify(body.model_dump(mode="json"))
    response.headers["Cache-Control"] = PRIVATE
    return response


@bp.get("/bulletins/<reference>.<suffix>")
@operation(
    summary="A rendition of a published bulletin",
    description="The bulletin rendered by a registered format — `pdf` (PDF), `csaf.json` (CSAF "
    "2.0), `stix.json` (STIX 2.1 bundle), `html`, `txt` — from its published view, in `lang` "
    "(French when the bulletin has no such version), as an attachment. 404 for an unknown "
    "rendition, or a bulletin the token's user may not read.",
    tag=TAG,
    path_params=RENDITION,
    query=RenditionQuery,
    replies={
        200: Reply(
            "The rendition (its media type: application/pdf, application/json, text/html, "
            "text/plain)",
            media="application/octet-stream",
        )
    },
)
def rendition(reference: str, suffix: str) -> ResponseReturnValue:
    reference, whole = downloads.split(reference, suffix)
    wanted = parse_query(RenditionQuery)
    view = _find(reference)
    if formats.by_suffix(whole) is None:
        raise NotFound(f"no rendition {whole}")
    response = downloads.rendition(view, whole, wanted.lang)
    response.headers["Cache-Control"] = PRIVATE
    return response


def _find(reference: str) -> BulletinView:
    view = find_published(get_session(), current_actor(), reference)
    if view is None or view.reference is None:
        raise NotFound("bulletin not found")
    return view


def _url(reference: str) -> str:
    return url_for(".detail", reference=reference)


def _renditions(reference: str) -> dict[str, str]:
    return {
        fmt.name: url_for(
            ".rendition", reference=reference, suffix=downloads.rendition_url_suffix(fmt)
        )
        for fmt in sorted(formats.FORMATS.values(), key=lambda f: f.name)
    }


def _item(view: BulletinView) -> dict[str, Any]:
    if view.reference is None:
        return item_out(view, url=None, renditions={}).model_dump(mode="json")
    return item_out(
        view, url=_url(view.reference), renditions=_renditions(view.reference)
    ).model_dump(mode="json")


def _cursor_url(**cursor: str) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("after", "before")]
    return f"{url_for('.index')}?{urlencode([*args, *cursor.items()])}"
