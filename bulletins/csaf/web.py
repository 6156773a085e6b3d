"""The CSAF import page (``GET/POST /bulletins/import-csaf``, endpoint
``bulletins.import_csaf``, CERT analysts and above): a vendor's CSAF 2.0 advisory, uploaded or
fetched from its URL, becomes a draft advisory (:mod:`bulletins.csaf.importer`); a refused
document is listed problem by problem on the form and nothing is written."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BuildError

from bulletins.blueprints import pages as bp
from bulletins.csaf.forms import CsafImportForm
from bulletins.csaf.importer import CsafRejected, fetch, import_advisory
from core.i18n import localise
from core.identity.authz import Actor, at_least
from core.identity.models import Role
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor, require
from feeds.settings import FeedSettings


def is_staff(actor: Actor) -> bool:
    return at_least(actor, Role.ANALYST)


def _page(form: CsafImportForm, message: str = "", problems: list[str] | None = None) -> str:
    return render_template(
        "bulletins/import_csaf.html", form=form, message=message, problems=problems or []
    )


def bulletin_url(bulletin_id: int) -> str:
    """The bulletin's page (``bulletins.show`` when the authoring pages are there)."""
    try:
        return url_for("bulletins.show", bulletin_id=bulletin_id)
    except BuildError:
        return f"/bulletins/{bulletin_id}"


@bp.route("/bulletins/import-csaf", methods=["GET", "POST"], endpoint="import_csaf")
@require(is_staff, "importing CSAF advisories")
def import_csaf() -> ResponseReturnValue:
    form = CsafImportForm()
    if request.method == "GET":
        return _page(form)
    try:
        ok, source = form.validate_on_submit(), form.source()
    except RequestEntityTooLarge:
        return _page(form, _("The file is too large.")), 413
    if not ok or source is None:
        return _page(form), 422
    kind, given = source
    try:
        if isinstance(given, bytes):
            upload = form.document.data
            raw, origin = given, str(getattr(upload, "filename", "") or "upload.json")
        else:
            settings = current_app.extensions.get("feeds")
            feeds = settings if isinstance(settings, FeedSettings) else FeedSettings()
            raw, origin = fetch(given, feeds), given
        bulletin = import_advisory(
            get_session(),
            current_actor(),
            raw,
            origin=origin[:400],
            published=kind == "url",
            clock=context().clock,
        )
    except CsafRejected as exc:
        unit_of_work().rollback()
        return _page(form, localise(exc.message, _), exc.problems), 422
    unit_of_work().commit()
    flash(
        _("Draft %(id)s created from the CSAF advisory: adapt it before review.", id=bulletin.id),
        "success",
    )
    return redirect(bulletin_url(bulletin.id))
