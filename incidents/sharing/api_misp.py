"""REST adapter of the MISP export: ``GET /api/v1/incidents/<reference>/misp`` on the
``incidents_api`` blueprint (rules: :mod:`incidents.sharing.misp_export`,
:mod:`incidents.sharing.misp`)."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from core.api.openapi import Reply, operation
from core.web import get_session
from core.web.auth import current_actor
from incidents.blueprints import REFERENCE
from incidents.blueprints import api as bp
from incidents.sharing.misp_export import misp_event

TAG = "sharing"


@bp.get("/incidents/<reference>/misp")
@operation(
    summary="An incident as a MISP event",
    description='The incident\'s shareable observables as a MISP event JSON (`{"Event": …}`), '
    "loadable by PyMISP or a MISP instance: `tlp:`, `PAP:` and `rsit:` tags, attributes with "
    "`to_ids` (false for known-benign and non-Internet values), stable uuids. `info` is the "
    "reference and the RSIT classification, never the reporter's text. Staff export every "
    "observable, reporters those their organisation reported; TLP:RED observables are left out "
    "and a TLP:RED incident is refused (403). 404 for an incident the caller may not see.",
    tag=TAG,
    path_params=REFERENCE,
    replies={200: Reply("The MISP event")},
    errors=(403, 404),
)
def misp(reference: str) -> ResponseReturnValue:
    return jsonify(misp_event(get_session(), current_actor(), reference))
