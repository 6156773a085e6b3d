"""Administrators managing vigilance centres (admins only): the list (constituency, members,
who is on duty now, the centres the routing rule cannot decide between), a new centre, and a
centre's page — its description and constituency, its members (add, remove, standing duty) and
its rota (the shifts to come, in the centre's local time; add, remove). Every change goes
through :mod:`core.auth.centre_admin` and :mod:`core.auth.centre_members`, as
``cert centres …`` does, and is audited there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import available_timezones

from babel.dates import format_datetime
from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from cert.accounts.admin_forms import apply_change, show_errors
from cert.accounts.centre_forms import CentreForm, DutyForm, MemberForm, ShiftForm
from cert.accounts.forms import ConfirmForm
from core.auth import centre_admin, centre_members
from core.auth import centres as read
from core.auth import organisations as orgs
from core.auth import services as accounts
from core.auth.centre_overlaps import overlaps
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import RTL_LOCALES
from core.identity.authz import can_manage_users
from core.identity.centres import Centre
from core.identity.models import CERT_ROLES, Organisation, User
from core.web import context, fetch_page, get_session, page_number, unit_of_work
from core.web.auth import current_actor, require
from incidents.rules.taxonomy import rsit_classes

PAGE_SIZE = 50
ROTA_DAYS = 14  # the rota shown on a centre's page
ROTA_LIMIT = 200


def local_name(centre: Centre) -> str:
    """The centre's name in the page's script: Arabic on Arabic pages when it has one."""
    return centre.display_name("ar" if str(get_locale()) in RTL_LOCALES else "fr")


def _offer(form: CentreForm) -> None:
    """The organisations and the RSIT classes to choose from."""
    arabic = str(get_locale()) in RTL_LOCALES
    form.organisations.choices = [
        (o.slug, f"{o.name_ar if arabic and o.name_ar else o.name} ({o.slug})")
        for o in orgs.list_organisations(get_session())
    ]
    form.categories.choices = [(c.id, f"{c.name} ({c.id})") for c in rsit_classes().values()]


def _words_in_use() -> dict[str, list[str]]:
    """Sectors and regions the organisations use, offered while typing (they must match)."""
    db = get_session()
    found: dict[str, list[str]] = {}
    for name, column in (("sectors", Organisation.sector), ("regions", Organisation.region)):
        query = select(column).where(column.is_not(None)).distinct()
        found[name] = sorted(v for v in db.scalars(query) if v)
    return found


def _form_page(template: str, form: CentreForm, **values: object) -> str:
    _offer(form)
    return render_template(
        template,
        form=form,
        timezones=sorted(available_timezones()),
        **_words_in_use(),
        **values,
    )


@require(can_manage_users, "the centres")
def centres() -> str:
    """Every centre (the national one first): constituency, members, who is on duty now, and
    the pairs of centres equally specific for some incident."""
    query = select(Centre).order_by(Centre.is_national.desc(), Centre.slug)
    page = fetch_page(query, limit=PAGE_SIZE, offset=(page_number() - 1) * PAGE_SIZE)
    board = centre_members.board(get_session(), page.items, context().clock.now())
    return render_template(
        "auth/centres.html", page=page, board=board, overlaps=overlaps(get_session())
    )


@require(can_manage_users, "creating a centre")
def new_centre() -> ResponseReturnValue:
    form = CentreForm()
    _offer(form)
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return _form_page("auth/centre_new.html", form, others=[]), status
    try:
        centre = centre_admin.create_centre(
            get_session(),
            current_actor(),
            slug=form.slug.data,
            known_categories=set(rsit_classes()),
            clock=context().clock,
            **form.values(),
        )
    except (ValidationFailed, Conflict) as exc:
        unit_of_work().rollback()
        return _form_page("auth/centre_new.html", form, others=show_errors(form, exc)), 422
    unit_of_work().commit()
    flash(_("The centre %(name)s has been created.", name=local_name(centre)), "success")
    return redirect(url_for("auth.centre", slug=centre.slug))


def _local(centre: Centre, moment: dt.datetime) -> str:
    return format_datetime(
        centre_members.utc_to_local(centre, moment), "EEE d MMM y HH:mm", locale=str(get_locale())
    )


def _page(
    centre: Centre,
    *,
    form: CentreForm | None = None,
    member_form: MemberForm | None = None,
    shift_form: ShiftForm | None = None,
    others: list[str] | None = None,
) -> str:
    db = get_session()
    now = context().clock.now()
    members = read.members_of(db, centre)
    if form is None:
        form = CentreForm.of(centre, centre_admin.organisation_slugs(db, centre))
    member_form = member_form or MemberForm(formdata=None, prefix="member")
    inside = {m.user_id for m in members}
    staff = db.scalars(
        select(User).where(User.is_active, User.role.in_(CERT_ROLES)).order_by(User.name, User.id)
    )
    member_form.user.choices = [
        (u.id, f"{u.name} · {u.email}") for u in staff if u.id not in inside
    ]
    shift_form = shift_form or ShiftForm(formdata=None, prefix="shift")
    shift_form.user.choices = [
        (m.user_id, f"{m.user.name} · {m.user.email}") for m in members if m.user.is_active
    ]
    until = now + dt.timedelta(days=ROTA_DAYS)
    shifts = centre_members.upcoming_shifts(db, centre, since=now, until=until, limit=ROTA_LIMIT)
    board = centre_members.board(db, [centre], now)
    return _form_page(
        "auth/centre.html",
        form,
        centre=centre,
        members=members,
        member_form=member_form,
        shift_form=shift_form,
        shifts=[(s, _local(centre, s.starts_at), _local(centre, s.ends_at)) for s in shifts],
        more_shifts=len(shifts) == ROTA_LIMIT,
        rota_days=ROTA_DAYS,
        on_duty=board.on_duty[centre.id],
        confirm=ConfirmForm(),
        duty_form=DutyForm(formdata=None),
        others=others or [],
        overlaps=[o for o in overlaps(db) if centre.slug in (o.first, o.second)],
    )


Change = Callable[[Centre], tuple[str, str]]  # the service call; the message to flash


def _apply(
    slug: str,
    change: Change,
    *,
    form: CentreForm | MemberForm | ShiftForm | None = None,
    anchor: str = "",
) -> ResponseReturnValue:
    """One change from a centre's page: committed, its message flashed and back to the page (at
    ``anchor``); or, when the service refuses it, nothing written and the page again with the
    errors next to ``form``'s fields (422)."""

    def again(centre: Centre, others: list[str]) -> ResponseReturnValue:
        if isinstance(form, MemberForm):
            return _page(centre, member_form=form, others=others), 422
        if isinstance(form, ShiftForm):
            return _page(centre, shift_form=form, others=others), 422
        return _page(centre, form=form, others=others), 422

    return apply_change(
        lambda: read.get_centre_by_slug(get_session(), slug),
        change,
        form=form,
        again=again,
        done=url_for("auth.centre", slug=slug) + anchor,
    )


@require(can_manage_users, "a centre's page")
def centre(slug: str) -> ResponseReturnValue:
    """GET the page; POST the description form (the identifier never changes)."""
    form = CentreForm()
    found = read.get_centre_by_slug(get_session(), slug)
    if not form.is_submitted():
        return _page(found)
    form.slug.data = found.slug  # shown, never taken from the request
    _offer(form)
    if not form.validate():
        return _page(found, form=form), 422

    def describe(centre: Centre) -> tuple[str, str]:
        changed = centre_admin.update_centre(
            get_session(),
            current_actor(),
            centre,
            known_categories=set(rsit_classes()),
            clock=context().clock,
            **form.values(),
        )
        if not changed:
            return _("Nothing to change."), "info"
        return _("The centre %(name)s has been changed.", name=local_name(centre)), "success"

    return _apply(slug, describe, form=form)


def _person(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        raise NotFound("user not found", fields={"user": "unknown user"})
    return user


@require(can_manage_users, "adding a member to a centre")
def add_member(slug: str) -> ResponseReturnValue:
    form = MemberForm(prefix="member")
    if not form.validate_on_submit():
        return _page(read.get_centre_by_slug(get_session(), slug), member_form=form), 422

    def join(centre: Centre) -> tuple[str, str]:
        user = get_session().get(User, form.user.data or 0)
        if user is None:
            raise ValidationFailed("no such user", fields={"user": accounts.REQUIRED})
        centre_members.add_member(
            get_session(),
            current_actor(),
            centre,
            user,
            on_duty=bool(form.on_duty.data),
            clock=context().clock,
        )
        message = _(
            "%(name)s is a member of %(centre)s.", name=user.name, centre=local_name(centre)
        )
        return message, "success"

    return _apply(slug, join, form=form, anchor="#members")


@require(can_manage_users, "removing a member from a centre")
def remove_member(slug: str, user_id: int) -> ResponseReturnValue:
    def leave(centre: Centre) -> tuple[str, str]:
        user = _person(user_id)
        dropped = centre_members.remove_member(
            get_session(), current_actor(), centre, user, clock=context().clock
        )
        message = _(
            "%(name)s has left %(centre)s; shifts to come removed: %(count)s.",
            name=user.name,
            centre=local_name(centre),
            count=dropped,
        )
        return message, "success"

    return _apply(slug, leave, anchor="#members")


@require(can_manage_users, "changing who is on duty")
def set_duty(slug: str, user_id: int) -> ResponseReturnValue:
    form = DutyForm()
    if not form.validate_on_submit():
        return _page(read.get_centre_by_slug(get_session(), slug)), 422
    on = bool(form.on.data)

    def duty(centre: Centre) -> tuple[str, str]:
        user = _person(user_id)
        centre_members.set_on_duty(
            get_session(), current_actor(), centre, user, on, clock=context().clock
        )
        if on:
            return _("%(name)s is on standing duty.", name=user.name), "success"
        return _("%(name)s is no longer on standing duty.", name=user.name), "success"

    return _apply(slug, duty, anchor="#members")


@require(can_manage_users, "adding a shift to a centre's rota")
def add_shift(slug: str) -> ResponseReturnValue:
    form = ShiftForm(prefix="shift")
    if not form.validate_on_submit():
        return _page(read.get_centre_by_slug(get_session(), slug), shift_form=form), 422

    def put_on(centre: Centre) -> tuple[str, str]:
        user = get_session().get(User, form.user.data or 0)
        if user is None or not isinstance(form.starts_at.data, dt.datetime):
            raise ValidationFailed("no such member", fields={"user": centre_members.NOT_MEMBER})
        shift = centre_members.add_shift(
            get_session(),
            current_actor(),
            centre,
            user,
            starts_at=centre_members.local_to_utc(centre, form.starts_at.data),
            ends_at=centre_members.local_to_utc(centre, form.ends_at.data),
            note=form.note.data,
            clock=context().clock,
        )
        message = _(
            "%(name)s is on duty from %(start)s to %(end)s.",
            name=user.name,
            start=_local(centre, shift.starts_at),
            end=_local(centre, shift.ends_at),
        )
        return message, "success"

    return _apply(slug, put_on, form=form, anchor="#rota")


@require(can_manage_users, "removing a shift from a centre's rota")
def remove_shift(slug: str, shift_id: int) -> ResponseReturnValue:
    def take_off(centre: Centre) -> tuple[str, str]:
        shift = centre_members.get_shift(get_session(), shift_id, centre)
        name, start = shift.user.name, _local(centre, shift.starts_at)
        centre_members.remove_shift(get_session(), current_actor(), shift, clock=context().clock)
        return _(
            "The shift of %(name)s from %(start)s is removed.", name=name, start=start
        ), "success"

    return _apply(slug, take_off, anchor="#rota")
