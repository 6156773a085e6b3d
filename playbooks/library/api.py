"""REST adapter of the playbook library (blueprint ``playbooks_api``, under ``/api/v1``):
``GET /playbooks`` (CERT staff; paginated; ``phase``, ``enabled``, ``all_versions``),
``POST /playbooks`` (leads; the body is the CACAO document itself) and
``GET /playbooks/<ident>`` (CERT staff; the document as imported)."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.exceptions import UnsupportedMediaType

from core.api import paginate, parse_query
from core.api.openapi import API_WRITES, Reply, operation
from core.identity.authz import require
from core.identity.models import Role
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor
from playbooks.blueprints import TAG
from playbooks.blueprints import api as bp
from playbooks.library.exports import export_playbook, find_version
from playbooks.library.queries import PlaybookOut, playbook_out, playbook_query
from playbooks.library.services import import_playbook
from playbooks.models import Phase

IDENT = {"ident": "A version's row id, or a CACAO id (`playbook--…`) for its current version"}


class PlaybookFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phase: Phase | None = Field(default=None, description="`before` or `after` incidents")
    enabled: bool | None = Field(default=None, description="Only enabled (or disabled) ones")
    all_versions: bool = Field(default=False, description="Every version, not only current")


class CacaoPlaybook(BaseModel):
    """An OASIS CACAO 2.0 playbook (the document itself; only the main properties are shown
    here — every CACAO property is accepted and stored verbatim)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="`playbook`")
    spec_version: str = Field(description="`cacao-2.0`")
    id: str = Field(description="`playbook--<uuid>`: versions of one playbook share it")
    name: str
    created_by: str
    created: str
    modified: str = Field(description="Tells versions apart: a changed playbook needs a newer one")
    workflow_start: str
    workflow: dict[str, dict[str, object]]


@bp.get("/playbooks")
@operation(
    summary="List the playbooks",
    description="The current version of each CACAO playbook (every version with "
    "`all_versions=true`), by name. CERT staff only.",
    tag=TAG,
    query=PlaybookFilter,
    replies={200: Reply("One page of playbooks", PlaybookOut, paginated=True)},
    errors=(403,),
)
def index() -> ResponseReturnValue:
    require(current_actor(), Role.ANALYST, "the playbooks")
    wanted = parse_query(PlaybookFilter, paginated=True)
    query = playbook_query(
        phase=wanted.phase, enabled=wanted.enabled, all_versions=wanted.all_versions
    )
    return paginate(query, PlaybookOut, render=playbook_out)


@bp.post("/playbooks")
@operation(
    summary="Import a playbook version",
    description="The body is an OASIS CACAO 2.0 playbook (JSON, at most 2 MiB). It is validated "
    "— every problem is listed in the error's `fields`, by JSON path (`$.workflow['action--…']"
    ".commands[0].type`), and nothing is stored — then kept verbatim as a version of its "
    "playbook: 201 for a new version, 200 when this very version was already imported, 409 "
    "when the same `modified` comes with other content. Vigie runs `manual`, `http-api` and "
    "`x-vigie` commands only. Leads only.",
    tag=TAG,
    body=CacaoPlaybook,
    replies={
        201: Reply("The new version", PlaybookOut),
        200: Reply("Already imported", PlaybookOut),
    },
    errors=(403, 409),
    rate_limit=API_WRITES,
)
def create() -> ResponseReturnValue:
    actor = current_actor()
    require(actor, Role.LEAD, "importing a playbook")
    if not request.is_json:
        raise UnsupportedMediaType("expected a JSON body (Content-Type: application/json)")
    uow = unit_of_work()
    imported = import_playbook(uow.session, actor, request.get_data(), clock=context().clock)
    body = playbook_out(imported.playbook).model_dump(mode="json")
    uow.commit()
    return jsonify(body), 201 if imported.created else 200


@bp.get("/playbooks/<ident>")
@operation(
    summary="A playbook's CACAO document",
    description="The CACAO 2.0 document of a version, byte for byte as it was imported. CERT "
    "staff only.",
    tag=TAG,
    path_params=IDENT,
    replies={200: Reply("The CACAO 2.0 playbook", CacaoPlaybook)},
    errors=(403,),
)
def detail(ident: str) -> ResponseReturnValue:
    require(current_actor(), Role.ANALYST, "the playbooks")
    session = get_session()
    document = export_playbook(session, find_version(session, ident))
    return Response(document, mimetype="application/json")
