"""REST adapter of triggers and schedules (blueprint ``playbooks_api``, under ``/api/v1``):
``GET``/``POST /playbooks/<playbook_id>/triggers`` and ``…/schedules`` (a version's id: the
trigger or schedule belongs to the playbook, the current version runs), ``PATCH``/``DELETE
/playbooks/triggers/<id>`` and ``/playbooks/schedules/<id>``. Reading needs CERT staff, changing
a lead; a refused value is a 422 naming the field (``conditions.types``, ``cron``…)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from core.api import paginate, parse_json
from core.api.openapi import API_WRITES, Reply, operation
from core.errors import NotFound
from core.identity.authz import require
from core.identity.models import Role
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor
from playbooks.automation import services as svc
from playbooks.automation.schemas import (
    ScheduleIn,
    ScheduleOut,
    SchedulePatch,
    TriggerIn,
    TriggerOut,
    TriggerPatch,
)
from playbooks.blueprints import TAG
from playbooks.blueprints import api as bp
from playbooks.models import Playbook, PlaybookSchedule, PlaybookTrigger
from playbooks.settings import PlaybookSettings

PLAYBOOK = {"playbook_id": "The id of one of the playbook's versions"}
TRIGGER = {"trigger_id": "The trigger's id"}
SCHEDULE = {"schedule_id": "The schedule's id"}
WRITE_ERRORS = (403, 404, 422)


def _cacao_id(playbook_id: int) -> str:
    playbook = get_session().get(Playbook, playbook_id)
    if playbook is None:
        raise NotFound(f"no playbook {playbook_id}")
    return playbook.cacao_id


def _settings() -> PlaybookSettings:
    found: PlaybookSettings = current_app.extensions["playbooks"]
    return found


def _lead(what: str) -> None:
    require(current_actor(), Role.LEAD, what)
    unit_of_work().write()


# ---------------------------------------------------------------- triggers
@bp.get("/playbooks/<int:playbook_id>/triggers")
@operation(
    summary="List a playbook's triggers",
    description="The incident events that start the playbook, with their conditions in the "
    "stored form (sorted lists; keys left out do not restrict). CERT staff only.",
    tag=TAG, path_params=PLAYBOOK, errors=(403,),
    replies={200: Reply("One page of triggers", TriggerOut, paginated=True)},
)  # fmt: skip
def list_triggers(playbook_id: int) -> ResponseReturnValue:
    require(current_actor(), Role.ANALYST, "the playbooks' triggers")
    query = select(PlaybookTrigger).where(PlaybookTrigger.cacao_id == _cacao_id(playbook_id))
    session = get_session()
    return paginate(query.order_by(PlaybookTrigger.id), TriggerOut,
                    render=lambda t: svc.trigger_out(session, t))  # fmt: skip


@bp.post("/playbooks/<int:playbook_id>/triggers")
@operation(
    summary="Add a trigger to an after-incident playbook",
    description="`event` (created, classified, priority, markings, status, intel-match) and "
    "`conditions`: `categories`/`types` (RSIT ids), `min_priority` (P1–P4), `tlp` (TLP 2.0 "
    "labels), `organisation_ids`, `sectors`, `centres` (vigilance centre slugs: the incident's "
    "centre is one of them), `statuses` (event `status` only). A before-incident "
    "playbook is refused (field `playbook`). Leads only.",
    tag=TAG, body=TriggerIn, path_params=PLAYBOOK, errors=WRITE_ERRORS, rate_limit=API_WRITES,
    replies={201: Reply("The new trigger", TriggerOut)},
)  # fmt: skip
def add_trigger(playbook_id: int) -> ResponseReturnValue:
    _lead("adding a trigger")
    cacao_id, data = _cacao_id(playbook_id), parse_json(TriggerIn)
    trigger = svc.add_trigger(get_session(), current_actor(), cacao_id, data, clock=context().clock)
    return _reply(svc.trigger_out(get_session(), trigger), 201)


@bp.patch("/playbooks/triggers/<int:trigger_id>")
@operation(
    summary="Change a trigger",
    description="The fields given replace the trigger's (`conditions` as a whole; "
    "`enabled: false` disables it). Leads only.",
    tag=TAG, body=TriggerPatch, path_params=TRIGGER, errors=WRITE_ERRORS, rate_limit=API_WRITES,
    replies={200: Reply("The trigger after the change", TriggerOut)},
)  # fmt: skip
def change_trigger(trigger_id: int) -> ResponseReturnValue:
    _lead("changing a trigger")
    trigger = svc.get_trigger(get_session(), trigger_id)
    patch = parse_json(TriggerPatch).model_dump(exclude_unset=True)
    data: dict[str, Any] = {"event": trigger.event.value, "conditions": trigger.conditions,
                            "enabled": trigger.enabled} | patch  # fmt: skip
    data["conditions"] = data["conditions"] or {}
    svc.update_trigger(get_session(), current_actor(), trigger, data, clock=context().clock)
    return _reply(svc.trigger_out(get_session(), trigger), 200)


@bp.delete("/playbooks/triggers/<int:trigger_id>")
@operation(
    summary="Delete a trigger",
    description="The runs it started are kept (without their trigger). Leads only.",
    tag=TAG, path_params=TRIGGER, errors=(403,), rate_limit=API_WRITES,
    replies={204: Reply("Deleted: no content")},
)  # fmt: skip
def delete_trigger(trigger_id: int) -> ResponseReturnValue:
    _lead("deleting a trigger")
    trigger = svc.get_trigger(get_session(), trigger_id)
    svc.delete_trigger(get_session(), current_actor(), trigger, clock=context().clock)
    unit_of_work().commit()
    return Response(status=204)


# ---------------------------------------------------------------- schedules
@bp.get("/playbooks/<int:playbook_id>/schedules")
@operation(
    summary="List a playbook's schedules",
    description="Cron expressions with their time zone, organisations (null: every one), "
    "next and last slot. CERT staff only.",
    tag=TAG, path_params=PLAYBOOK, errors=(403,),
    replies={200: Reply("One page of schedules", ScheduleOut, paginated=True)},
)  # fmt: skip
def list_schedules(playbook_id: int) -> ResponseReturnValue:
    require(current_actor(), Role.ANALYST, "the playbooks' schedules")
    query = select(PlaybookSchedule).where(PlaybookSchedule.cacao_id == _cacao_id(playbook_id))
    session = get_session()
    return paginate(query.order_by(PlaybookSchedule.id), ScheduleOut,
                    render=lambda s: svc.schedule_out(session, s))  # fmt: skip


@bp.post("/playbooks/<int:playbook_id>/schedules")
@operation(
    summary="Add a schedule to a before-incident playbook",
    description="`cron` (five fields), `timezone` (IANA; default the CERT's), "
    "`organisation_ids` (absent, null or empty: every organisation) or `centre` (a vigilance "
    "centre's slug: the organisations of its constituency when it fires; not both, else a 422 "
    "on `centre`). An after-incident "
    "playbook is refused (field `playbook`). Leads only.",
    tag=TAG, body=ScheduleIn, path_params=PLAYBOOK, errors=WRITE_ERRORS, rate_limit=API_WRITES,
    replies={201: Reply("The new schedule", ScheduleOut)},
)  # fmt: skip
def add_schedule(playbook_id: int) -> ResponseReturnValue:
    _lead("adding a schedule")
    cacao_id, data = _cacao_id(playbook_id), parse_json(ScheduleIn)
    schedule = svc.add_schedule(get_session(), current_actor(), cacao_id, data,
                                clock=context().clock, settings=_settings())  # fmt: skip
    return _reply(svc.schedule_out(get_session(), schedule), 201)


@bp.patch("/playbooks/schedules/<int:schedule_id>")
@operation(
    summary="Change a schedule",
    description="The fields given replace the schedule's (`organisation_ids` given alone "
    "clears the `centre`, `centre` given alone clears the organisations); `next_fire_at` is "
    "computed again from now, and the scheduler follows it at its next run. Leads only.",
    tag=TAG, body=SchedulePatch, path_params=SCHEDULE, errors=WRITE_ERRORS,
    rate_limit=API_WRITES, replies={200: Reply("The schedule after the change", ScheduleOut)},
)  # fmt: skip
def change_schedule(schedule_id: int) -> ResponseReturnValue:
    _lead("changing a schedule")
    schedule = svc.get_schedule(get_session(), schedule_id, for_update=True)
    patch = parse_json(SchedulePatch).model_dump(exclude_unset=True)
    data = {
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "organisation_ids": schedule.organisation_ids,
        "centre": schedule.centre.slug if schedule.centre is not None else None,
        "enabled": schedule.enabled,
    } | patch
    if "organisation_ids" in patch and "centre" not in patch:
        data["centre"] = None
    if "centre" in patch and "organisation_ids" not in patch:
        data["organisation_ids"] = None
    svc.update_schedule(get_session(), current_actor(), schedule, data,
                        clock=context().clock, settings=_settings())  # fmt: skip
    return _reply(svc.schedule_out(get_session(), schedule), 200)


@bp.delete("/playbooks/schedules/<int:schedule_id>")
@operation(
    summary="Delete a schedule",
    description="The runs it started are kept (without their schedule). Leads only.",
    tag=TAG, path_params=SCHEDULE, errors=(403,), rate_limit=API_WRITES,
    replies={204: Reply("Deleted: no content")},
)  # fmt: skip
def delete_schedule(schedule_id: int) -> ResponseReturnValue:
    _lead("deleting a schedule")
    schedule = svc.get_schedule(get_session(), schedule_id, for_update=True)
    svc.delete_schedule(get_session(), current_actor(), schedule, clock=context().clock)
    unit_of_work().commit()
    return Response(status=204)


def _reply(out: TriggerOut | ScheduleOut, status: int) -> ResponseReturnValue:
    unit_of_work().commit()
    return jsonify(out.model_dump(mode="json")), status
