"""``GET /api/v1/incidents/<reference>/stix`` (blueprint ``incidents_api``): the incident as a
STIX 2.1 bundle (:mod:`incidents.sharing.export`), ``application/stix+json;version=2.1``."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from flask import Response
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from core.api.openapi import Reply, operation
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor
from incidents.blueprints import REFERENCE
from incidents.blueprints import api as bp
from incidents.sharing import stix_objects as so
from incidents.sharing.export import export_incident
from incidents.sharing.taxii_params import STIX_MEDIA


class StixBundle(BaseModel):
    """A STIX 2.1 bundle (its objects as the STIX 2.1 specification defines them)."""

    type: Literal["bundle"]
    id: str = Field(pattern=r"^bundle--[0-9a-f-]{36}$")
    objects: list[dict[str, Any]]


@bp.get("/incidents/<reference>/stix")
@operation(
    summary="The incident as a STIX 2.1 bundle",
    description="An `incident` (Incident Core extension), the reporting organisation as a "
    "sector `identity` (never its name), the observables the caller may read as SCOs, "
    "`observed-data` and `indicator`s, `sighting`s of the feed indicators they matched and the "
    "TLP 2.0 marking definitions. Never beyond TLP: a TLP:RED incident is refused (403), RED "
    "observables never leave, each object is marked at the strictest label it carries and a "
    "reporter receives only what their own organisation reported. Ids are stable: a re-export "
    "is a new version of the same objects.",
    tag="sharing",
    path_params=REFERENCE,
    replies={200: Reply("A STIX 2.1 bundle", StixBundle, media=STIX_MEDIA)},
    errors=(403, 404),
)
def stix_bundle(reference: str) -> ResponseReturnValue:
    settings = context().settings
    producer = so.Producer(settings.reference_prefix, settings.cert_name)
    bundle = export_incident(get_session(), current_actor(), reference, producer=producer)
    unit_of_work().rollback()  # a read: end it
    return Response(orjson.dumps(bundle), mimetype=STIX_MEDIA)
