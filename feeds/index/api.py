"""``POST /api/v1/enrich`` (blueprint ``feeds_api``): observables in, threat context out.

CERT staff only (a reporter is 403): each observable is canonicalised (422 naming
``observables[i].value`` and the problem), looked up in the indicator index in one batch and
answered in the order given, with its known-benign warning lists. A value on a warning list
never matches, here as on an incident. Read-only: nothing is written.
"""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from core.api import parse_json
from core.api.openapi import Reply, operation
from core.errors import PermissionDenied
from core.web import context, get_session
from core.web.auth import current_actor
from feeds.blueprints import api as bp
from feeds.index.benign import warning_lists
from feeds.index.lookup import Match, match_observables
from feeds.index.schemas import (
    EnrichRequest,
    EnrichResponse,
    EnrichResult,
    IndicatorRef,
    MatchOut,
    related_out,
)

TAG = "intelligence"


@bp.post("/enrich")
@operation(
    summary="Enrich observables with threat intelligence",
    description="1 to 1,000 observables, answered in the order given: the live indicators "
    "each meets (exact value, containing network, parent domain, URL host) with their source, "
    "confidence, TLP and context, and the MISP warning lists it is on (a known-benign value "
    "never matches). CERT staff only.",
    tag=TAG,
    body=EnrichRequest,
    replies={200: Reply("One result per observable, in order", EnrichResponse)},
    errors=(400, 403, 415, 422),
)
def enrich() -> ResponseReturnValue:
    actor = current_actor()
    if not actor.is_cert_staff:
        raise PermissionDenied("enrichment is for CERT staff")
    request = parse_json(EnrichRequest)
    pairs = [(o.type.value, o.value) for o in request.observables]
    benign = [warning_lists(kind, value) for kind, value in pairs]
    asked = [pair for pair, lists in zip(pairs, benign, strict=True) if not lists]
    found = iter(match_observables(get_session(), asked, now=context().clock.now()))
    results = [
        EnrichResult(
            type=kind,
            value=value,
            matches=[] if lists else [_match_out(m) for m in next(found)],
            warning_lists=lists,
        )
        for (kind, value), lists in zip(pairs, benign, strict=True)
    ]
    return jsonify(EnrichResponse(results=results).model_dump(mode="json"))


def _match_out(match: Match) -> MatchOut:
    indicator = match.indicator
    return MatchOut(
        indicator=IndicatorRef(
            id=indicator.id,
            name=indicator.name,
            pattern=indicator.pattern,
            stix_id=indicator.stix_id,
        ),
        source=indicator.feed.name,
        confidence=indicator.confidence,
        tlp=indicator.tlp.value,
        why=match.why.value,
        matched=match.matched,
        valid_until=indicator.valid_until,
        related=related_out(indicator.related),
    )
