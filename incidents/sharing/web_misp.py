"""The MISP event of an incident as a download from its file:
``/incidents/<reference>/misp.json`` (the same rules as the API route:
:mod:`incidents.sharing.misp_export`; the file shows the link to CERT staff)."""

from __future__ import annotations

import json

from flask import Blueprint, Response

from core.web import get_session
from core.web.auth import current_actor, login_required
from incidents.sharing.misp_export import misp_event

bp = Blueprint("misp_export", __name__)


@bp.route("/incidents/<reference>/misp.json")
@login_required
def misp(reference: str) -> Response:
    event = misp_event(get_session(), current_actor(), reference)
    body = json.dumps(event, ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    name = f"{reference.strip().upper()}.misp.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
