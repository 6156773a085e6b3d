"""Leaving a list's digests without an account (``/advisories/unsubscribe/<token>`` on the
``bulletins_public`` blueprint): GET shows what the link is for and a button (a link opened by
a mail scanner changes nothing); POST records the unsubscription (idempotent). A forged,
altered or expired token gets a page saying so (400); a list since deleted, 404."""

from __future__ import annotations

from flask import render_template, request

from bulletins.blueprints import public
from bulletins.digests import tokens
from bulletins.digests.services import unsubscribe as record_unsubscription
from bulletins.models import DistributionList
from core.web import context, unit_of_work

INVALID = "bulletins/digests/unsubscribe_invalid.html"


@public.route("/advisories/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> tuple[str, int] | str:
    found = tokens.read(context().settings.secret_key, token)
    if found is None:
        return render_template(INVALID), 400
    uow = unit_of_work()
    posted = request.method == "POST"
    session = uow.write() if posted else uow.session
    dlist = session.get(DistributionList, found.list_id)
    if dlist is None:
        return render_template(INVALID, gone=True), 404
    if posted:
        record_unsubscription(session, dlist.id, found.email, now=uow.clock.now())
        uow.commit()
        return render_template("bulletins/digests/unsubscribed.html", dlist=dlist,
                               email=found.email)  # fmt: skip
    return render_template("bulletins/digests/unsubscribe.html", dlist=dlist, email=found.email)
