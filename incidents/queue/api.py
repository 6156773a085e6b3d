"""REST adapter of incident lists: ``GET /api/v1/incidents`` (blueprint ``incidents_api``).

It speaks the queue's filter language: the query string is read by the same
:meth:`QueueFilter.from_args` as ``/queue`` (strictly: unknown parameters and empty values are
refused), answered by the same read model (:mod:`incidents.queue.query`), with the same
full-text search, sorts and keyset cursors. Each row says the incident's vigilance centre
(``centre``, its slug; ``?centre=`` filters on it). ``offset`` still pages by number for the
clients that use it; without it, ``next`` and ``previous`` carry cursors.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue

from core.api import page_params
from core.api.openapi import Reply, operation
from core.errors import ValidationFailed
from core.web import context, get_session, page_url
from core.web.auth import current_actor
from incidents.blueprints import api as bp
from incidents.intake.api import TAG, incident_out
from incidents.intake.schemas import IncidentOut
from incidents.models import Incident
from incidents.named import References
from incidents.queue.filter import QueueFilter
from incidents.queue.query import COUNT_CAP, SEARCH_COUNT_CAP, incident_page, offset_page
from incidents.web import intake

PAGE_PARAMS = ("limit", "offset")


@bp.get("/incidents")
@operation(
    summary="List incidents",
    description="The filters, search and sorts of the analysts' queue (`/queue`), which takes "
    "the same query string: filters combine with AND, the values of one filter with OR. Newest "
    "first by default. Reporters see only their organisation's incidents and may not filter on "
    "the assignee (403). Pages: follow `next` (a keyset cursor, `after`: a page costs the same "
    "at any depth and rows neither repeat nor vanish while incidents arrive); `offset` pages by "
    f"number instead, as before. `total` counts up to {COUNT_CAP:,}, or {SEARCH_COUNT_CAP:,} with "
    "a text search `q` (`total_capped` says when more match), as the queue does: a broad filter "
    "never counts the whole table.",
    tag=TAG,
    query=QueueFilter,
    replies={200: Reply("One page of incidents", IncidentOut, paginated=True, keyset=True)},
    errors=(403, 422),
)
def index() -> ResponseReturnValue:
    session, actor, clock = get_session(), current_actor(), context().clock
    f, limit, offset = _query()
    zone = ZoneInfo(intake().timezone)
    if offset is None:
        page = incident_page(session, actor, f, clock=clock, limit=limit, tz=zone)
        items, total, capped = page.items, page.total, page.more
        following = _cursor_url(f, after=page.next) if page.next else None
        preceding = _cursor_url(f, before=page.previous) if page.previous else None
    else:
        rows = offset_page(session, actor, f, clock=clock, limit=limit, offset=offset, tz=zone)
        items, total, capped = rows.items, rows.total, rows.capped
        following = page_url(offset=offset + limit) if rows.more else None
        preceding = page_url(offset=max(0, offset - limit)) if offset else None
    body = {
        "items": _render(items),
        "total": total,
        "total_capped": capped,
        "next": following,
        "previous": preceding,
    }
    return jsonify(body)


def _query() -> tuple[QueueFilter, int, int | None]:
    """The filter, ``limit`` and ``offset`` (``None``: pages by cursor); one 422 names every
    invalid parameter."""
    errors: dict[str, str] = {}
    limit, offset = page_params(errors)
    args = {name: request.args.getlist(name) for name in request.args if name not in PAGE_PARAMS}
    f = QueueFilter()
    try:
        f = QueueFilter.from_args(args, strict=True)
    except ValidationFailed as exc:
        errors |= exc.fields
    if "offset" in request.args and (f.after or f.before) and "offset" not in errors:
        errors["offset"] = "give offset or a cursor (after, before), not both"
    if errors:
        raise ValidationFailed("invalid query parameters", fields=errors)
    return f, limit, offset if "offset" in request.args else None


def _cursor_url(f: QueueFilter, **cursor: str) -> str:
    args: dict[str, Any] = f.without_cursor().to_args() | cursor
    if "limit" in request.args:
        args["limit"] = request.args["limit"]
    return f"{url_for('.index')}?{urlencode(args, doseq=True)}"


def _render(items: list[Incident]) -> list[dict[str, Any]]:
    references = References(get_session(), current_actor())
    # each row as ``GET /incidents/<reference>`` answers it (``centre`` and ``shares`` for staff)
    return [incident_out(incident, references).model_dump(mode="json") for incident in items]
