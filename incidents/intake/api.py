"""REST adapter of incident intake, nested under ``/api/v1`` (blueprint ``incidents_api``): report,
read one incident, attach a file. The list, ``GET /api/v1/incidents``, is the queue's
(:mod:`incidents.queue.api`), with its filter language.

Each view parses (pydantic), makes one service call, commits once and answers JSON; errors use
the API kit's envelope. The contracts declared with :func:`operation` feed the OpenAPI document.
"""

from __future__ import annotations

from typing import BinaryIO, cast

from flask import current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import UnsupportedMediaType

from core.api import parse_json
from core.api.openapi import Header, Reply, operation
from core.errors import ValidationFailed
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor
from incidents.blueprints import REFERENCE, WRITE_RATE_LIMIT
from incidents.blueprints import api as bp
from incidents.intake.attachments import add_attachment
from incidents.intake.checks import rule_errors
from incidents.intake.idempotency import MAX_KEY_LENGTH, check_key, submit_once
from incidents.intake.schemas import (
    AttachmentOut,
    IncidentOut,
    IncidentSubmission,
    MergedInto,
    ObservableOut,
    ShareOut,
)
from incidents.intake.service import get_incident
from incidents.models import Incident
from incidents.named import References
from incidents.origins import followed, observables_for
from incidents.settings import IntakeSettings

IDEMPOTENCY_KEY = Header(
    "Idempotency-Key",
    "Retry-safe submission: the same key and body return the incident created the first time "
    "(200); the same key with another body is 409. Keys are per user.",
    MAX_KEY_LENGTH,
)
TAG = "incidents"


def _settings() -> IntakeSettings:
    settings: IntakeSettings = current_app.extensions["incidents"]
    return settings


def links(reference: str) -> dict[str, str]:
    """URLs a client may GET (an upload goes to ``POST …/attachments``, which has no GET)."""
    return {
        "self": url_for(".detail", reference=reference),
        "track": f"/track/{reference}",
    }


def incident_out(incident: Incident, references: References | None = None) -> IncidentOut:
    """The API view of an incident for the caller (observables as ``{type, value}``, SLA dates,
    links): a reporter reads only their organisation's observables, and nobody the reference of
    an incident they may not see (pass one ``references`` for a whole page)."""
    session, actor = get_session(), current_actor()
    references = references or References(session, actor)
    observables = observables_for(session, actor, incident)
    merged = followed(session, actor, incident)
    return IncidentOut(
        reference=incident.reference,
        title=incident.title,
        status=incident.status,
        priority=incident.priority,
        category=incident.category,
        type=incident.type,
        tlp=incident.tlp,
        pap=incident.pap,
        impact=incident.impact,
        urgency=incident.urgency,
        organisation=incident.organisation.slug,
        received_at=incident.received_at,
        acknowledge_by=incident.ack_due_at,
        resolve_by=incident.resolve_due_at,
        observables=[ObservableOut(type=o.type, value=o.value) for o in observables],
        possible_duplicates=references.visible(incident.possible_duplicates),
        links=links(incident.reference),
        significant=incident.significant,
        early_warning_by=incident.early_warning_due_at,
        notification_by=incident.notification_due_at,
        final_report_by=incident.final_report_due_at,
        detected_at=incident.detected_at,
        reported_at=incident.reported_at,
        source_ref=incident.source_ref,
        merged_into=MergedInto(
            reference=merged.reference,
            status=merged.status,
            resolved_at=merged.resolved_at,
            closed_at=merged.closed_at,
        )
        if merged
        else None,
        **centre_fields(incident, staff=actor.is_cert_staff or actor.is_system),
    )


def centre_fields(incident: Incident, *, staff: bool) -> dict[str, object]:
    """``centre`` and ``shares`` for the CERT; reporters get neither (the CERT is one to them:
    which of its centres handles the report, and with whom it is shared, is internal)."""
    if not staff:
        return {}
    shares = sorted(incident.shares, key=lambda s: s.centre.slug)
    return {
        "centre": incident.centre.slug,
        "shares": [ShareOut(centre=s.centre.slug, mode=s.mode.value) for s in shares],
    }


def _submission() -> tuple[IncidentSubmission, str | None]:
    """The body and the ``Idempotency-Key``; one 422 names every invalid field and the header."""
    errors: dict[str, str] = {}
    key = request.headers.get(IDEMPOTENCY_KEY.name)
    if key is not None and (problem := check_key(key)):
        errors[IDEMPOTENCY_KEY.name] = problem
    data: IncidentSubmission | None = None
    try:
        data = parse_json(IncidentSubmission)
    except ValidationFailed as exc:
        errors |= exc.fields
    errors = rule_errors(request.get_json(silent=True)) | errors
    if errors or data is None:
        raise ValidationFailed("invalid incident submission", fields=errors)
    return data, key


def _uploaded_file() -> FileStorage:
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("expected multipart/form-data with a 'file' field")
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed("no file sent", fields={"file": "a file is required"})
    return upload


@bp.post("/incidents")
@operation(
    summary="Report an incident",
    description="Classified (RSIT), prioritised (impact × urgency → P1–P4) and given SLA due "
    "dates; observables are extracted from the title and description (defanged forms "
    "included) and merged with the explicit ones. The reporter gets an acknowledgement e-mail. "
    "CERT staff must name the reporting `organisation`; reporters report for their own. "
    "A `source_ref` already reported by the organisation is 409.",
    tag=TAG,
    body=IncidentSubmission,
    headers=(IDEMPOTENCY_KEY,),
    replies={
        201: Reply("Created", IncidentOut, headers={"Location": "URL of the new incident"}),
        200: Reply("Same Idempotency-Key and body: the incident created earlier", IncidentOut),
    },
    errors=(400, 403, 409, 413, 415, 422),
    rate_limit=WRITE_RATE_LIMIT,
)
def create() -> ResponseReturnValue:
    data, key = _submission()
    session = get_session()
    unit_of_work().write()
    result = submit_once(
        session, current_actor(), data, key=key, clock=context().clock, settings=_settings()
    )
    unit_of_work().commit()
    body = jsonify(incident_out(result.incident).model_dump(mode="json"))
    if not result.created:
        return body, 200
    return body, 201, {"Location": url_for(".detail", reference=result.incident.reference)}


@bp.get("/incidents/<reference>")
@operation(
    summary="One incident",
    description="404 as well for another organisation's incident.",
    tag=TAG,
    path_params=REFERENCE,
    replies={200: Reply("The incident", IncidentOut)},
    errors=(404,),
)
def detail(reference: str) -> ResponseReturnValue:
    incident = get_incident(get_session(), current_actor(), reference)
    return jsonify(incident_out(incident).model_dump(mode="json"))


@bp.post("/incidents/<reference>/attachments")
@operation(
    summary="Attach a file to an incident",
    description="multipart/form-data with a `file` field, at most CERT_MAX_UPLOAD_MB. Stored by "
    "SHA-256 outside the web root; the type is sniffed; text files are mined for observables.",
    tag=TAG,
    upload="file",
    path_params=REFERENCE,
    replies={201: Reply("Stored", AttachmentOut)},
    errors=(404, 413, 415, 422),
    rate_limit=WRITE_RATE_LIMIT,
)
def attach(reference: str) -> ResponseReturnValue:
    upload = _uploaded_file()  # read before the write lock is taken (SQLite)
    session, actor, settings = get_session(), current_actor(), _settings()
    unit_of_work().write()
    incident = get_incident(session, actor, reference)
    attachment = add_attachment(
        session,
        actor,
        incident,
        filename=upload.filename or "",
        stream=cast(BinaryIO, upload.stream),
        clock=context().clock,
        upload_dir=settings.upload_dir,
        max_bytes=settings.max_upload_bytes,
    )
    unit_of_work().commit()
    return jsonify(AttachmentOut.model_validate(attachment).model_dump(mode="json")), 201
