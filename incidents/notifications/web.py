"""The notification centre's pages (adapters): the bell in every CERT page's header (a context
processor), ``/notifications`` (the list, mark one or all as read, open one), the e-mail
preference posted from the account page, and the centres' on-duty rota
(``/notifications/rota``, leads and admins: who is on duty now, standing duty per member; the
shifts are on ``/admin/centres/<slug>``). CERT staff only: reporters have no notifications
(``404``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from core import inputs
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.identity.authz import Actor
from core.identity.models import User
from core.web import context, get_session, int_arg, unit_of_work
from core.web.auth import current_account, current_actor, login_required, safe_next
from incidents.notifications import duty, inbox, preferences
from incidents.notifications.forms import ActionForm, EmailPreferenceForm
from incidents.notifications.models import EmailMode
from incidents.web import local_time

log = logging.getLogger(__name__)
bp = Blueprint("notifications", __name__, template_folder="../templates")
LIST = "notifications.index"


def _staff() -> Actor:
    actor = current_actor()
    if not actor.is_cert_staff:
        raise NotFound("no notifications")
    return actor


def _back(default: str) -> str:
    """Where a button came from (``next``), when it is the list; else ``default``."""
    target = safe_next(request.form.get("next"), default)
    return target if target.startswith("/notifications") else default


# ---------------------------------------------------------------- the bell
@dataclass
class Bell:
    """The header's bell: the unread count, counted once per page and only when shown."""

    user_id: int

    @cached_property
    def count(self) -> int | None:
        """``None`` when the database cannot answer: the page still renders — the 503 page of a
        database that went away, above all — with a bell and no number."""
        try:
            return inbox.unread_count(get_session(), self.user_id)
        except SQLAlchemyError:
            log.warning("the bell could not count the unread notifications", exc_info=True)
            return None


def _preference_form(user: User) -> Callable[[], EmailPreferenceForm]:
    def build() -> EmailPreferenceForm:
        mode = preferences.email_mode(get_session(), user.id)
        return EmailPreferenceForm(formdata=None, email=mode.value)

    return build


@bp.app_context_processor
def _notification_globals() -> dict[str, Any]:
    account = current_account()
    if account is None or not account.is_cert_staff:
        return {}
    return {
        "notification_bell": Bell(account.id),
        "notification_preferences": _preference_form(account),
    }


# ---------------------------------------------------------------- the list
def _unread_only() -> bool:
    raw = request.args.get("unread", "")
    if raw not in {"", "0", "1"}:
        raise ValidationFailed("invalid unread", fields={"unread": "1 (unread only) or 0"})
    return raw == "1"


@bp.get("/notifications")
@login_required
def index() -> ResponseReturnValue:
    actor = _staff()
    unread_only = _unread_only()
    before = int_arg("before", low=1, high=inputs.MAX_ID)
    page = inbox.inbox(get_session(), actor, before=before, unread_only=unread_only)
    return render_template(
        "incidents/notifications/list.html",
        page=page,
        unread_only=unread_only,
        before=before,
        form=ActionForm(),
        local_time=local_time,
        may_manage_rota=duty.may_manage_rota(actor),
    )


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int) -> ResponseReturnValue:
    actor, uow = _staff(), unit_of_work()
    session = uow.write()
    notification = inbox.own(session, actor, notification_id)
    inbox.mark_read(session, actor, notification, clock=context().clock)
    uow.commit()
    flash(_("Marked as read."), "success")
    return redirect(_back(url_for(LIST)))


@bp.post("/notifications/<int:notification_id>/open")
@login_required
def open_one(notification_id: int) -> ResponseReturnValue:
    """Mark as read, then go to the incident — or back to the list when the reader may no
    longer see it."""
    actor, uow = _staff(), unit_of_work()
    session = uow.write()
    notification = inbox.own(session, actor, notification_id)
    inbox.mark_read(session, actor, notification, clock=context().clock)
    shown = inbox.shown(actor, notification)
    uow.commit()
    if not shown.visible:
        flash(_("You can no longer see this incident."), "warning")
        return redirect(_back(url_for(LIST)))
    return redirect(url_for("incident_file.show", reference=shown.reference))


@bp.post("/notifications/read-all")
@login_required
def read_all() -> ResponseReturnValue:
    actor, uow = _staff(), unit_of_work()
    count = inbox.mark_all_read(uow.write(), actor, clock=context().clock)
    uow.commit()
    flash(_("Notifications marked as read: %(count)s.", count=count), "success")
    return redirect(_back(url_for(LIST)))


# ---------------------------------------------------------------- the e-mail preference
@bp.post("/notifications/preferences")
@login_required
def set_preference() -> ResponseReturnValue:
    """Posted from the account page's "Notifications" card."""
    actor, uow = _staff(), unit_of_work()
    form = EmailPreferenceForm()
    if not form.validate():
        flash(_("Choose how notifications reach you by e-mail."), "danger")
        return redirect(url_for("auth.account") + "#notifications-title"), 303
    account = current_account()
    if account is None:  # login_required ran first
        raise NotFound("no notifications")
    preferences.set_email_mode(
        uow.write(), actor, account, EmailMode(form.email.data), clock=context().clock
    )
    uow.commit()
    flash(_("Your notification preference has been saved."), "success")
    return redirect(url_for("auth.account") + "#notifications-title")


# ---------------------------------------------------------------- the on-duty rota
def centre_time(value: dt.datetime | None, timezone: str) -> str:
    """A time of a centre's rota in the centre's time zone (``HH:MM``, the page's language)."""
    if value is None:
        return "—"
    zone = ZoneInfo(timezone)
    return str(format_datetime(value, "short", tzinfo=zone, locale=str(get_locale())))


@bp.get("/notifications/rota")
@login_required
def rota() -> ResponseReturnValue:
    """Each centre's staff on duty now; the chosen centre's members (``?centre=slug``, the
    first centre — the national one — by default) with their standing-duty toggle."""
    actor = _staff()
    if not duty.may_manage_rota(actor):
        raise PermissionDenied("the on-duty rota is for leads and admins")
    rotas = duty.centre_rotas(get_session(), actor, at=context().clock.now())
    wanted = request.args.get("centre", "").strip().lower()
    chosen = next((r for r in rotas if r.centre.slug == wanted), None)
    if wanted and chosen is None:
        raise NotFound("no such centre")
    return render_template(
        "incidents/notifications/rota.html",
        rotas=rotas,
        chosen=chosen or (rotas[0] if rotas else None),
        form=ActionForm(),
        centre_time=centre_time,
        locale=str(get_locale()),
    )


@bp.post("/notifications/rota/<slug>/<int:user_id>")
@login_required
def set_duty(slug: str, user_id: int) -> ResponseReturnValue:
    actor, uow = _staff(), unit_of_work()
    if not duty.may_manage_rota(actor):
        raise PermissionDenied("the on-duty rota is for leads and admins")
    raw = request.form.get("on_duty", "")
    if raw not in {"0", "1"}:
        raise ValidationFailed("invalid on_duty", fields={"on_duty": "1 (on duty) or 0"})
    on = raw == "1"
    centre, user = duty.set_standing_duty(
        uow.write(), actor, slug, user_id, on, clock=context().clock
    )
    name, where, back = user.name, centre.display_name(str(get_locale())), centre.slug
    uow.commit()
    if on:
        flash(_("%(name)s is on standing duty for %(centre)s.", name=name, centre=where), "success")
    else:
        flash(
            _("%(name)s is no longer on standing duty for %(centre)s.", name=name, centre=where),
            "success",
        )
    return redirect(url_for(".rota", centre=back))
