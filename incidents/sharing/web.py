"""``GET /incidents/<reference>/stix`` (blueprint ``sharing``): the STIX export as a download
from the incident file, for CERT staff signed in on the pages (the same bundle as the API's
``GET /api/v1/incidents/<reference>/stix``, :mod:`incidents.sharing.export`)."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response

from core.errors import PermissionDenied
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor, login_required
from incidents.intake.service import get_incident
from incidents.sharing import stix_objects as so
from incidents.sharing.export import export_incident
from incidents.sharing.taxii_params import STIX_MEDIA

bp = Blueprint("sharing", __name__)


@bp.route("/incidents/<reference>/stix")
@login_required
def stix_download(reference: str) -> Response:
    session, actor = get_session(), current_actor()
    incident = get_incident(session, actor, reference)  # 404 before anything else
    if not actor.is_cert_staff:
        raise PermissionDenied("the STIX export of the pages is for CERT staff")
    settings = context().settings
    producer = so.Producer(settings.reference_prefix, settings.cert_name)
    bundle = export_incident(session, actor, incident.reference, producer=producer)
    unit_of_work().rollback()  # a read: end it
    response = Response(orjson.dumps(bundle), mimetype=STIX_MEDIA)
    response.headers["Content-Disposition"] = f'attachment; filename="{incident.reference}.json"'
    return response
