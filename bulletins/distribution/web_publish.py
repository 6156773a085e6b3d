"""Publishing with distribution (blueprint ``bulletins``): the lead's publish page shows the exact
recipients grouped by language, those the TLP refuses (in red, the Publish button disabled with
what to change), a preview of the e-mail in each language rendered from the same template, and
publishes through :func:`bulletins.distribution.sending.publish_and_send`; the delivery status
page lists each recipient's outbox status (one query per page)."""

from __future__ import annotations

import re

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from bulletins.audience import audience_of, bulletin_lists
from bulletins.blueprints import pages as bp
from bulletins.distribution.deliveries import delivery_page
from bulletins.distribution.forms import PublishForm
from bulletins.distribution.sending import preview, publish_and_send
from bulletins.distribution.services import is_lead, organisation_names
from bulletins.models import Bulletin, BulletinStatus
from bulletins.outputs.view import current_view
from bulletins.settings import BulletinSettings
from core.errors import ValidationFailed
from core.identity.authz import Actor, at_least
from core.identity.models import Role
from core.web import Page, context, get_session, page_number, say, unit_of_work
from core.web.auth import current_actor, require

PER_PAGE = 50
_AMBER = re.compile(
    r"^(TLP:\S+) (needs the organisations it is about|goes to the organisations it is about only)$"
)


def _settings() -> BulletinSettings:
    found = current_app.extensions.get("bulletins")
    return found if isinstance(found, BulletinSettings) else BulletinSettings()


def _staff(actor: Actor) -> bool:
    return at_least(actor, Role.ANALYST)


def _bulletin(bulletin_id: int) -> Bulletin:
    bulletin = get_session().get(Bulletin, bulletin_id)
    if bulletin is None:
        abort(404)
    return bulletin


def reason_words(reason: str) -> str:
    """A gating reason (:mod:`bulletins.rules.gating`) in the reader's language."""
    if reason == "TLP:RED goes to named individuals only":
        return str(_("TLP:RED goes to named individuals only"))
    if reason == "TLP:GREEN stays within the constituency":
        return str(_("TLP:GREEN stays within the constituency"))
    match = _AMBER.match(reason)
    if match and match[2].startswith("needs"):
        return str(_("%(tlp)s needs the organisations it is about", tlp=match[1]))
    if match:
        return str(_("%(tlp)s goes to the organisations it is about only", tlp=match[1]))
    return reason


def bulletin_page(bulletin: Bulletin) -> str:
    """The bulletin's page if the outputs feature has one, else its delivery status."""
    try:
        return url_for("bulletins.show", bulletin_id=bulletin.id)
    except BuildError:
        return url_for("bulletins.deliveries", bulletin_id=bulletin.id)


@bp.route("/bulletins/<int:bulletin_id>/publish", methods=["GET", "POST"])
@require(is_lead, "publishing bulletins")
def publish(bulletin_id: int) -> ResponseReturnValue:
    session = get_session()
    bulletin = _bulletin(bulletin_id)
    form = PublishForm()
    status = 200
    if form.validate_on_submit() and bulletin.status == BulletinStatus.APPROVED:
        unit_of_work().write()
        try:
            sent = publish_and_send(session, current_actor(), bulletin, clock=context().clock,
                                    settings=_settings(), change=form.change.data)  # fmt: skip
        except ValidationFailed as exc:
            unit_of_work().rollback()
            bulletin = _bulletin(bulletin_id)
            if "change" in exc.fields:
                form.change.errors.append(say(exc.fields["change"]))
            elif "recipients" in exc.fields:
                form.form_errors.append(_("Nothing was published: the TLP refuses recipients."))
            else:
                form.form_errors.append(say(exc.message))
            status = 422
        else:
            unit_of_work().commit()
            flash(_("%(reference)s is published: %(count)s e-mail(s) queued.",
                    reference=bulletin.reference, count=sent.queued), "success")  # fmt: skip
            return redirect(bulletin_page(bulletin))
    elif form.is_submitted():
        status = 422
    return _publish_page(bulletin, form), status


def _publish_page(bulletin: Bulletin, form: PublishForm) -> str:
    session = get_session()
    audience = audience_of(session, bulletin)
    ids = {r.organisation_id for r in audience.recipients}
    ids |= {r.recipient.organisation_id for r in audience.refused}
    organisations = organisation_names(session, ids, str(get_locale()))
    lists = {d.id: d for d in bulletin_lists(session, bulletin.id)}
    view = current_view(session, bulletin)
    languages = sorted({"fr", *audience.by_language()}, key=("fr", "ar", "en").index)
    previews = {
        lang: preview(session, bulletin, view, lang, settings=_settings(),
                      change=form.change.data or None, now=context().clock.now())
        for lang in languages
    }  # fmt: skip
    return render_template(
        "bulletins/distribution/publish.html", bulletin=bulletin, view=view, audience=audience,
        by_language=audience.by_language(), organisations=organisations, lists=lists,
        previews=previews, form=form, reason_words=reason_words,
        approved=bulletin.status == BulletinStatus.APPROVED,
        revision=bulletin.revision > 0,
    )  # fmt: skip


@bp.get("/bulletins/<int:bulletin_id>/deliveries")
@require(_staff, "delivery status")
def deliveries(bulletin_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    number = page_number()
    found = delivery_page(get_session(), bulletin.id, limit=PER_PAGE,
                          offset=(number - 1) * PER_PAGE)  # fmt: skip
    page = Page(found.rows, found.total, PER_PAGE, (number - 1) * PER_PAGE)
    view = current_view(get_session(), bulletin)
    arabic = str(get_locale()) == "ar"
    return render_template("bulletins/distribution/deliveries.html", bulletin=bulletin,
                           view=view, page=page, counts=found.counts, arabic=arabic)  # fmt: skip
