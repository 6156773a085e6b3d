"""REST adapter of the vigilance centres on one incident (``/api/v1``, blueprint
``incidents_api``): transfer it to another centre, share it with one (read or work), take a share
back. Whoever may work the incident (:func:`incidents.access.can_work`) may do so: 404 for an
incident the caller may not see, 403 for reporters and for a read-only share, 422 naming the
field for an unknown centre, the incident's own centre, a missing or too long reason. The answer
is the incident (``centre`` and ``shares`` included, for CERT staff)."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from core.api import parse_json
from core.api.openapi import Reply, operation
from core.web import context, get_session
from incidents.blueprints import REFERENCE, WRITE_RATE_LIMIT
from incidents.blueprints import api as bp
from incidents.centres import shares
from incidents.centres.transfer import transfer
from incidents.intake.schemas import IncidentOut
from incidents.workspace.api import ANALYST_ERRORS, TAG, incident_for_write, incident_reply
from incidents.workspace.schemas import ShareIn, TransferIn

SHARE = {**REFERENCE, "centre": "Slug of the centre the incident is shared with"}
WHO = (
    " Whoever works the incident: members of its centre or of a centre it is shared with in "
    "`work` mode, its assignee and participants, leads."
)


@bp.post("/incidents/<reference>/transfer")
@operation(
    summary="Transfer an incident to another vigilance centre",
    description="The incident moves to `centre` (a slug) with a `reason`, written on the "
    "timeline (internal: reporters never see it); its shares stay, except one with the new "
    "centre, now redundant. Members of the old centre who worked it through that centre only "
    "no longer see it (404 afterwards)." + WHO,
    tag=TAG,
    body=TransferIn,
    path_params=REFERENCE,
    replies={200: Reply("The incident after the transfer", IncidentOut)},
    errors=ANALYST_ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def transfer_incident(reference: str) -> ResponseReturnValue:
    incident, actor = incident_for_write(reference, staff_only="transferring incidents")
    data = parse_json(TransferIn)
    transfer(get_session(), actor, incident, data.centre, data.reason, clock=context().clock)
    return incident_reply(incident)


@bp.post("/incidents/<reference>/shares")
@operation(
    summary="Share an incident with another vigilance centre",
    description="For a joint investigation: the members of `centre` see the incident (`read`) "
    "or see and work it (`work`); TLP:RED still stays with the assignee, participants and "
    "leads. Sharing again with the same centre changes the mode. Not with the incident's own "
    "centre." + WHO,
    tag=TAG,
    body=ShareIn,
    path_params=REFERENCE,
    replies={200: Reply("The incident after the change", IncidentOut)},
    errors=ANALYST_ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def share_incident(reference: str) -> ResponseReturnValue:
    incident, actor = incident_for_write(reference, staff_only="sharing incidents")
    data = parse_json(ShareIn)
    shares.share(
        get_session(), actor, incident, data.centre, data.mode, data.reason,
        clock=context().clock,
    )  # fmt: skip
    return incident_reply(incident)


@bp.delete("/incidents/<reference>/shares/<centre>")
@operation(
    summary="Take back the share of an incident with a centre",
    description="Its members no longer see the incident (unless it is theirs otherwise); 422 "
    "naming `centre` when the incident is not shared with it." + WHO,
    tag=TAG,
    path_params=SHARE,
    replies={200: Reply("The incident after the change", IncidentOut)},
    errors=(403, 404, 422),
    rate_limit=WRITE_RATE_LIMIT,
)
def unshare_incident(reference: str, centre: str) -> ResponseReturnValue:
    incident, actor = incident_for_write(reference, staff_only="sharing incidents")
    shares.unshare(get_session(), actor, incident, centre, clock=context().clock)
    return incident_reply(incident)
