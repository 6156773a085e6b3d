"""Leaving a list's digests without an account (``/advisories/unsubscribe/<token>`` on the
``bulletins_public`` blueprint): GET shows what the link is for and a button (a link opened by
a mail scanner changes nothing); POST records the unsubscription (idempotent). A forged,
altered or expired token gets a page saying so (400); a list since deleted, 404.

``/advisories/unsubscribe/<token>/one-click`` is the address of the digests'
``List-Unsubscribe`` header: a mail client's RFC 8058 one-click POST (body
``List-Unsubscribe=One-Click``, no cookie, no CSRF token: the signed token is the only
credential, as on the page) records the unsubscription; any other POST is refused (400), and a
GET — a scanner, or a client following RFC 2369 — only leads to the page above."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bulletins.blueprints import public
from bulletins.digests import tokens
from bulletins.digests.services import unsubscribe as record_unsubscription
from bulletins.models import DistributionList
from core.web import context, csrf, unit_of_work

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


@public.get("/advisories/unsubscribe/<token>/one-click")
def one_click_page(token: str) -> ResponseReturnValue:
    """A GET never unsubscribes: the confirmation page, with its button."""
    return redirect(url_for("bulletins_public.unsubscribe", token=token), code=303)


@public.post("/advisories/unsubscribe/<token>/one-click")
def one_click(token: str) -> ResponseReturnValue:
    if request.form.get("List-Unsubscribe") != "One-Click":
        return "expected List-Unsubscribe=One-Click\n", 400, {"Content-Type": "text/plain"}
    found = tokens.read(context().settings.secret_key, token)
    if found is None:
        return "invalid or expired link\n", 400, {"Content-Type": "text/plain"}
    uow = unit_of_work()
    if not record_unsubscription(uow.write(), found.list_id, found.email, now=uow.clock.now()):
        return "this list no longer exists\n", 404, {"Content-Type": "text/plain"}
    uow.commit()
    return "unsubscribed\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


csrf.exempt(one_click)  # RFC 8058: the mail client sends no CSRF token; the signed token is all
