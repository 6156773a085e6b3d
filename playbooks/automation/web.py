"""The triggers' and schedules' pages (blueprint ``playbooks``): the overview of every trigger
and schedule (``/playbooks/automation``) for CERT staff; adding, changing, enabling, disabling
and deleting them for leads. Every change goes through :mod:`playbooks.automation.services`
(audited there, as the API and ``cert playbooks`` do) and says what it did in a flash message;
a refused form comes back with each reason under its field, in the reader's language."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from core.auth.centres import list_centres
from core.errors import NotFound, ValidationFailed
from core.identity.authz import Actor, at_least
from core.identity.centres import Centre
from core.identity.models import Organisation, Role
from core.web import context, get_session, say, unit_of_work
from core.web.auth import current_actor, require
from incidents.rules import labels
from playbooks.automation import services as svc
from playbooks.automation.firing import run_schedule_now
from playbooks.automation.forms import (
    SCHEDULE_FIELDS,
    TRIGGER_FIELDS,
    ActionForm,
    ScheduleForm,
    TriggerForm,
    org_name,
    sector_name,
)
from playbooks.automation.words import EVENTS, cron_words
from playbooks.blueprints import pages as bp
from playbooks.models import Phase, Playbook, PlaybookSchedule, PlaybookTrigger
from playbooks.settings import PlaybookSettings


def is_staff(actor: Actor) -> bool:
    return at_least(actor, Role.ANALYST)


def is_lead(actor: Actor) -> bool:
    return at_least(actor, Role.LEAD)


def _settings() -> PlaybookSettings:
    found: PlaybookSettings = current_app.extensions["playbooks"]
    return found


def _organisations() -> list[Organisation]:
    return list(get_session().scalars(select(Organisation).order_by(Organisation.name)))


def _centres() -> list[Centre]:
    return list_centres(get_session())


def _playbook(playbook_id: int) -> Playbook:
    playbook = get_session().get(Playbook, playbook_id)
    if playbook is None:
        raise NotFound(f"no playbook {playbook_id}")
    return svc.current_playbook(get_session(), playbook.cacao_id) or playbook


@bp.get("/playbooks/automation")
@require(is_staff, "the playbooks' triggers and schedules")
def automation() -> ResponseReturnValue:
    session = get_session()
    playbooks = list(
        session.scalars(select(Playbook).where(Playbook.current.is_(True)).order_by(Playbook.name))
    )
    triggers, schedules = svc.list_triggers(session), svc.list_schedules(session)
    organisations = {o.id: org_name(o, str(get_locale())) for o in _organisations()}
    centres = {c.slug: c.display_name(str(get_locale())) for c in _centres()}
    return render_template(
        "playbooks/automation/index.html",
        playbooks=playbooks,
        by_cacao={p.cacao_id: p for p in playbooks},
        triggers=triggers,
        schedules=schedules,
        started=svc.last_started(session, [t.id for t in triggers]),
        organisations=organisations,
        events={e.value: _(m) for e, m in EVENTS.items()},
        cron_words=lambda expression: cron_words(expression, _),
        conditions=lambda values: _conditions(values, organisations, centres),
        centres=centres,
        lead=is_lead(current_actor()),
        action_form=ActionForm(),
        Phase=Phase,
    )


def _conditions(
    values: dict[str, Any], organisations: dict[int, str], centres: dict[str, str]
) -> list[tuple[str, str]]:
    """A trigger's conditions in words: (what, the values), in the reader's language."""

    def names(key: str, table: dict[str, Any]) -> str:
        return ", ".join(_(_first(table.get(v, v))) for v in values.get(key, []))

    shown = [
        (_("RSIT classes"), names("categories", labels.RSIT_CLASSES)),
        (_("RSIT types"), names("types", labels.RSIT_TYPES)),
        (_("Priority at least"), values.get("min_priority") or ""),
        (_("TLP"), ", ".join(values.get("tlp", []))),
        (_("Organisations"),
         ", ".join(organisations.get(i, f"#{i}") for i in values.get("organisation_ids", []))),
        (_("Sectors"), ", ".join(sector_name(s) for s in values.get("sectors", []))),
        (_("Vigilance centres"), ", ".join(centres.get(s, s) for s in values.get("centres", []))),
        (_("New status"), names("statuses", labels.STATUSES)),
    ]  # fmt: skip
    return [(what, text) for what, text in shown if text]


def _first(value: Any) -> str:
    return str(value[0] if isinstance(value, tuple) else value)


# ---------------------------------------------------------------- triggers
@bp.route("/playbooks/<int:playbook_id>/triggers/new", methods=["GET", "POST"])
@require(is_lead, "adding a trigger")
def new_trigger(playbook_id: int) -> ResponseReturnValue:
    playbook = _playbook(playbook_id)
    form = _trigger_form()
    if not form.validate_on_submit():
        return _trigger_page(form, playbook, None, 422 if form.is_submitted() else 200)
    unit_of_work().write()
    try:
        svc.add_trigger(get_session(), current_actor(), playbook.cacao_id, _trigger_data(form),
                        clock=context().clock)  # fmt: skip
    except ValidationFailed as exc:
        return _refused(exc, form, TRIGGER_FIELDS, lambda: _trigger_page(form, playbook, None))
    unit_of_work().commit()
    flash(_("The trigger of %(name)s has been added.", name=playbook.name), "success")
    return redirect(url_for("playbooks.automation"))


@bp.route("/playbooks/triggers/<int:trigger_id>/edit", methods=["GET", "POST"])
@require(is_lead, "changing a trigger")
def edit_trigger(trigger_id: int) -> ResponseReturnValue:
    trigger = svc.get_trigger(get_session(), trigger_id)
    playbook = svc.current_playbook(get_session(), trigger.cacao_id)
    form = _trigger_form(trigger)
    if not form.validate_on_submit():
        return _trigger_page(form, playbook, trigger, 422 if form.is_submitted() else 200)
    unit_of_work().write()
    try:
        svc.update_trigger(get_session(), current_actor(), trigger, _trigger_data(form),
                           clock=context().clock)  # fmt: skip
    except ValidationFailed as exc:
        return _refused(exc, form, TRIGGER_FIELDS, lambda: _trigger_page(form, playbook, trigger))
    unit_of_work().commit()
    flash(_("The trigger has been saved."), "success")
    return redirect(url_for("playbooks.automation"))


def _trigger_form(trigger: PlaybookTrigger | None = None) -> TriggerForm:
    data: dict[str, Any] = {}
    if trigger is not None:
        data = {"event": trigger.event.value, "enabled": trigger.enabled}
        data |= {k: v for k, v in trigger.conditions.items() if k != "organisation_ids"}
        data["organisation_ids"] = [str(i) for i in trigger.conditions.get("organisation_ids", [])]
    form = TriggerForm(data=data) if data and request.method == "GET" else TriggerForm()
    sectors = svc.sectors_in_use(get_session())
    form.fill(_organisations(), sectors, str(get_locale()), _centres())
    return form


def _trigger_data(form: TriggerForm) -> dict[str, Any]:
    conditions = {name: getattr(form, name).data or [] for name in TRIGGER_FIELDS}
    for name in ("event", "enabled"):
        conditions.pop(name)
    conditions["min_priority"] = form.min_priority.data or None
    ids = conditions["organisation_ids"]
    conditions["organisation_ids"] = [int(i) if str(i).isdigit() else i for i in ids]
    return {"event": form.event.data, "conditions": conditions, "enabled": form.enabled.data}


def _trigger_page(
    form: TriggerForm, playbook: Playbook | None, trigger: PlaybookTrigger | None, status: int = 422
) -> ResponseReturnValue:
    page = render_template("playbooks/automation/trigger_form.html", form=form,
                           playbook=playbook, trigger=trigger, general=_general(form))  # fmt: skip
    return page, status


# ---------------------------------------------------------------- schedules
@bp.route("/playbooks/<int:playbook_id>/schedules/new", methods=["GET", "POST"])
@require(is_lead, "adding a schedule")
def new_schedule(playbook_id: int) -> ResponseReturnValue:
    playbook = _playbook(playbook_id)
    form = _schedule_form()
    if not form.validate_on_submit():
        return _schedule_page(form, playbook, None, 422 if form.is_submitted() else 200)
    unit_of_work().write()
    try:
        svc.add_schedule(get_session(), current_actor(), playbook.cacao_id, _schedule_data(form),
                         clock=context().clock, settings=_settings())  # fmt: skip
    except ValidationFailed as exc:
        return _refused(exc, form, SCHEDULE_FIELDS, lambda: _schedule_page(form, playbook, None))
    unit_of_work().commit()
    flash(_("The schedule of %(name)s has been added.", name=playbook.name), "success")
    return redirect(url_for("playbooks.automation"))


@bp.route("/playbooks/schedules/<int:schedule_id>/edit", methods=["GET", "POST"])
@require(is_lead, "changing a schedule")
def edit_schedule(schedule_id: int) -> ResponseReturnValue:
    schedule = svc.get_schedule(get_session(), schedule_id)
    playbook = svc.current_playbook(get_session(), schedule.cacao_id)
    form = _schedule_form(schedule)
    if not form.validate_on_submit():
        return _schedule_page(form, playbook, schedule, 422 if form.is_submitted() else 200)
    unit_of_work().write()
    schedule = svc.get_schedule(get_session(), schedule_id, for_update=True)
    try:
        svc.update_schedule(get_session(), current_actor(), schedule, _schedule_data(form),
                            clock=context().clock, settings=_settings())  # fmt: skip
    except ValidationFailed as exc:
        page = lambda: _schedule_page(form, playbook, schedule)  # noqa: E731
        return _refused(exc, form, SCHEDULE_FIELDS, page)
    unit_of_work().commit()
    flash(_("The schedule has been saved: it fires next on the new slot."), "success")
    return redirect(url_for("playbooks.automation"))


def _schedule_form(schedule: PlaybookSchedule | None = None) -> ScheduleForm:
    if request.method != "GET":
        form = ScheduleForm()
    elif schedule is None:
        form = ScheduleForm(data={"timezone": _settings().timezone, "enabled": True})
    else:
        ids = [str(i) for i in schedule.organisation_ids or []]
        centre = schedule.centre.slug if schedule.centre is not None else ""
        data = {"cron": schedule.cron, "timezone": schedule.timezone, "centre": centre,
                "organisation_ids": ids, "enabled": schedule.enabled}  # fmt: skip
        form = ScheduleForm(data=data)
    form.fill(_organisations(), str(get_locale()), _centres())
    return form


def _schedule_data(form: ScheduleForm) -> dict[str, Any]:
    ids = [int(i) if str(i).isdigit() else i for i in form.organisation_ids.data or []]
    return {"cron": form.cron.data or "", "timezone": form.timezone.data or None,
            "organisation_ids": ids or None, "centre": form.centre.data or None,
            "enabled": form.enabled.data}  # fmt: skip


def _schedule_page(
    form: ScheduleForm,
    playbook: Playbook | None,
    schedule: PlaybookSchedule | None,
    status: int = 422,
) -> ResponseReturnValue:
    page = render_template("playbooks/automation/schedule_form.html", form=form,
                           playbook=playbook, schedule=schedule, general=_general(form),
                           default_timezone=_settings().timezone)  # fmt: skip
    return page, status


# ---------------------------------------------------------------- enable, disable, delete
@bp.post("/playbooks/<any(triggers, schedules):kind>/<int:item_id>/<any(enable, disable):action>")
@require(is_lead, "enabling or disabling a trigger or schedule")
def toggle_automation(kind: str, item_id: int, action: str) -> ResponseReturnValue:
    session, enabled = get_session(), action == "enable"
    unit_of_work().write()
    try:
        if kind == "triggers":
            trigger = svc.get_trigger(session, item_id)
            svc.set_trigger_enabled(
                session, current_actor(), trigger, enabled, clock=context().clock
            )
        else:
            schedule = svc.get_schedule(session, item_id, for_update=True)
            svc.set_schedule_enabled(session, current_actor(), schedule, enabled,
                                     clock=context().clock)  # fmt: skip
    except ValidationFailed as exc:
        unit_of_work().rollback()
        flash(" ".join(say(reason) for reason in exc.fields.values()), "danger")
        return redirect(url_for("playbooks.automation"))
    unit_of_work().commit()
    flash(_("Enabled.") if enabled else _("Disabled: it no longer starts its playbook."), "success")
    return redirect(url_for("playbooks.automation"))


@bp.post("/playbooks/schedules/<int:schedule_id>/run")
@require(is_lead, "running a schedule now")
def run_schedule(schedule_id: int) -> ResponseReturnValue:
    """Run a schedule's playbook now, for each of its organisations (the exposure check on
    demand); the runs go on in the scheduler's next ``playbooks.advance`` pass."""
    session = get_session()
    unit_of_work().write()
    schedule = svc.get_schedule(session, schedule_id)
    try:
        runs = run_schedule_now(session, current_actor(), schedule, clock=context().clock,
                                settings=_settings())  # fmt: skip
    except ValidationFailed as exc:
        unit_of_work().rollback()
        flash(" ".join(say(reason) for reason in exc.fields.values()), "danger")
        return redirect(url_for("playbooks.automation"))
    unit_of_work().commit()
    flash(ngettext("%(num)d run started: it goes on within seconds.",
                   "%(num)d runs started: they go on within seconds.", len(runs)),
          "success")  # fmt: skip
    return redirect(url_for("playbooks.runs"))


@bp.post("/playbooks/<any(triggers, schedules):kind>/<int:item_id>/delete")
@require(is_lead, "deleting a trigger or schedule")
def delete_automation(kind: str, item_id: int) -> ResponseReturnValue:
    session, clock = get_session(), context().clock
    unit_of_work().write()
    if kind == "triggers":
        svc.delete_trigger(session, current_actor(), svc.get_trigger(session, item_id), clock=clock)
        flash(_("The trigger has been deleted; the runs it started are kept."), "success")
    else:
        schedule = svc.get_schedule(session, item_id, for_update=True)
        svc.delete_schedule(session, current_actor(), schedule, clock=clock)
        flash(_("The schedule has been deleted; the runs it started are kept."), "success")
    unit_of_work().commit()
    return redirect(url_for("playbooks.automation"))


# ---------------------------------------------------------------- refusals
def _refused(
    exc: ValidationFailed, form: Any, fields: dict[str, str], page: Any
) -> ResponseReturnValue:
    """Roll back, put each reason under its field (translated), render the form again (422)."""
    unit_of_work().rollback()
    where = {service: name for name, service in fields.items()}
    for name, reason in exc.fields.items():
        field = getattr(form, where[name]) if name in where else None
        target = field.errors if field is not None else form.form_errors
        target.append(say(reason))
    result: ResponseReturnValue = page()
    return result


def _general(form: Any) -> list[str]:
    return [str(e) for e in form.form_errors]
