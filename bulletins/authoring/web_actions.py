"""The workflow buttons of a bulletin (``bulletins/_actions.html``, included by the bulletin's
page and by its form) and their routes, each a POST with the CSRF token, flashing the result:

* ``/bulletins/<id>/submit``: a draft goes to review (CERT staff);
* ``/bulletins/<id>/approve``: a lead who neither wrote nor submitted it (four eyes: the button
  is not shown to the others, and their POST is refused);
* ``/bulletins/<id>/send-back``: a lead returns it to draft with a reason;
* ``/bulletins/<id>/revise``: a published bulletin is reopened as a draft (its next
  publication asks for a change summary).

Publishing is a link to ``/bulletins/<id>/publish`` (the publication page).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from bulletins.authoring import services
from bulletins.authoring.web import bulletin_url, is_staff
from bulletins.blueprints import pages as bp
from bulletins.models import Bulletin, BulletinStatus
from core.errors import InvalidTransition, ValidationFailed
from core.identity.authz import at_least
from core.identity.models import Role
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor, require


@dataclass(frozen=True)
class Actions:
    """What the signed-in person may do with a bulletin now (the buttons shown)."""

    id: int
    edit: bool
    submit: bool
    approve: bool
    send_back: bool
    publish: bool
    revise: bool
    republish: bool  # a revision: publishing asks for a change summary
    deliveries: bool = False  # published at least once: who was sent what (staff)

    @property
    def any(self) -> bool:
        return any(
            (self.edit, self.submit, self.approve, self.send_back, self.publish, self.revise,
             self.deliveries)
        )  # fmt: skip


@bp.app_template_global("bulletin_actions")
def actions_of(bulletin: Bulletin) -> Actions:
    actor = current_actor()
    staff, lead = is_staff(actor), at_least(actor, Role.LEAD)
    status = bulletin.status
    return Actions(
        id=bulletin.id,
        edit=staff and status == BulletinStatus.DRAFT,
        submit=staff and status == BulletinStatus.DRAFT,
        approve=status == BulletinStatus.REVIEW and services.can_approve(actor, bulletin),
        send_back=lead and status in (BulletinStatus.REVIEW, BulletinStatus.APPROVED),
        publish=lead and status == BulletinStatus.APPROVED,
        revise=staff and status == BulletinStatus.PUBLISHED,
        republish=bulletin.revision > 0,
        deliveries=staff and bulletin.revision > 0,
    )


def _done(bulletin_id: int, message: str) -> ResponseReturnValue:
    unit_of_work().commit()
    flash(message, "success")
    return redirect(bulletin_url(bulletin_id))


def _refused(bulletin_id: int, message: str) -> ResponseReturnValue:
    unit_of_work().rollback()
    flash(message, "error")
    return redirect(bulletin_url(bulletin_id))


@bp.post("/bulletins/<int:bulletin_id>/submit")
@require(is_staff, "submitting bulletins")
def submit(bulletin_id: int) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    bulletin = services.get_bulletin(session, actor, bulletin_id)
    try:
        services.submit(session, actor, bulletin, clock=context().clock)
    except InvalidTransition:
        return _refused(bulletin_id, _("Only a draft is submitted for review."))
    return _done(bulletin_id, _("The bulletin is submitted for review: another lead approves it."))


@bp.post("/bulletins/<int:bulletin_id>/approve")
@require(is_staff, "approving bulletins")
def approve(bulletin_id: int) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    bulletin = services.get_bulletin(session, actor, bulletin_id)
    try:
        services.approve(session, actor, bulletin, clock=context().clock)  # four eyes: 403
    except InvalidTransition:
        return _refused(bulletin_id, _("Only a bulletin in review is approved."))
    return _done(bulletin_id, _("The bulletin is approved: it may be published."))


@bp.post("/bulletins/<int:bulletin_id>/send-back")
@require(is_staff, "reviewing bulletins")
def send_back(bulletin_id: int) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    bulletin = services.get_bulletin(session, actor, bulletin_id)
    reason = request.form.get("reason", "")
    try:
        services.send_back(session, actor, bulletin, reason, clock=context().clock)
    except InvalidTransition:
        return _refused(bulletin_id, _("This bulletin is not in review."))
    except ValidationFailed:
        return _refused(bulletin_id, _("Say what to change: the reason is required."))
    return _done(bulletin_id, _("The bulletin is sent back to its author as a draft."))


@bp.post("/bulletins/<int:bulletin_id>/revise")
@require(is_staff, "revising bulletins")
def revise(bulletin_id: int) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    bulletin = services.get_bulletin(session, actor, bulletin_id)
    try:
        services.revise(session, actor, bulletin, clock=context().clock)
    except InvalidTransition:
        return _refused(bulletin_id, _("Only a published bulletin is revised."))
    return _done(
        bulletin_id,
        _(
            "The bulletin is reopened as a draft: its readers see the published version until "
            "the next revision is published."
        ),
    )
