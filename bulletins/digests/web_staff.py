"""A list's digests as sent (blueprint ``bulletins``, CERT staff): each recipient of each digest
run with its outbox status, at ``/bulletins/lists/<slug>/digests``, linked from the list's page
— where a digest belongs, since it is the list's, not one bulletin's."""

from __future__ import annotations

from flask import abort, render_template
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from bulletins.blueprints import pages as bp
from bulletins.digests.deliveries import digest_delivery_page
from bulletins.distribution.services import get_list
from core.errors import NotFound
from core.identity.authz import Actor, at_least
from core.identity.models import Role
from core.web import Page, get_session, page_number
from core.web.auth import require

PER_PAGE = 50


def _staff(actor: Actor) -> bool:
    return at_least(actor, Role.ANALYST)


@bp.get("/bulletins/lists/<slug>/digests")
@require(_staff, "delivery status")
def digest_deliveries(slug: str) -> ResponseReturnValue:
    try:
        dlist = get_list(get_session(), slug)
    except NotFound:
        abort(404)
    number = page_number()
    found = digest_delivery_page(get_session(), dlist.id, limit=PER_PAGE,
                                 offset=(number - 1) * PER_PAGE)  # fmt: skip
    page = Page(found.rows, found.total, PER_PAGE, (number - 1) * PER_PAGE)
    return render_template("bulletins/digests/deliveries.html", dlist=dlist, page=page,
                           counts=found.counts, arabic=str(get_locale()) == "ar")  # fmt: skip
