"""The analysts' queue: ``/queue`` (filters by GET, sortable, keyset pages, saved filters, bulk
actions) and ``/queue.csv`` (the same filtered queue, streamed). ``/queue`` alone is the open
incidents of the reader's centre for a member of one sectoral centre (:func:`default_view`), the
national view (every centre, filterable by centre) for the others. CERT staff only: reporters
are sent to their organisation's list (the page) or refused (export and forms).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.centres import list_centres
from core.errors import Conflict, PermissionDenied, ValidationFailed
from core.identity.authz import Actor, at_least
from core.identity.centres import Centre
from core.identity.models import CERT_ROLES, Organisation, Role, User
from core.web import context, get_session, say, unit_of_work
from core.web.auth import current_actor, login_required
from incidents.intel.panel import sighted
from incidents.models import Incident
from incidents.notifications.answers import answers_waiting
from incidents.observables import connections
from incidents.queue import bulk as queue_bulk
from incidents.queue import page as queue_view
from incidents.queue import saved_filters
from incidents.queue.csv_export import HEADER, csv_row
from incidents.queue.forms import BulkForm, DeleteFilterForm, SaveFilterForm
from incidents.queue.keyset import STATUS_RANK
from incidents.queue.query import (
    NEW_CAP,
    QueueFilter,
    QueuePage,
    count_new,
    queue_page,
    queue_rows,
)
from incidents.rules import labels
from incidents.rules.sla import sla_state
from incidents.web import intake, local_time, marking_class

bp = Blueprint("queue", __name__, template_folder="../templates")
PAGE_SIZE = 50
POLL_SECONDS = 30  # how often an open queue asks for new incidents
DEFAULT_VIEW = {"status": "open"}  # /queue without arguments: what is still to be handled


def _staff() -> Actor:
    actor = current_actor()
    if not at_least(actor, Role.ANALYST):
        raise PermissionDenied("the queue is for CERT staff")
    return actor


@bp.route("/queue")
@login_required
def index() -> ResponseReturnValue:
    actor = current_actor()
    if not at_least(actor, Role.ANALYST):
        return redirect(url_for("incidents.mine"))
    session, clock = get_session(), context().clock
    try:
        args = request.args.copy()
        args.pop("lang", None)  # the language links: /queue?lang=ar is still the default view
        f = QueueFilter.from_args(args or default_view(session, actor))
        page = queue_page(session, actor, f, clock=clock, limit=PAGE_SIZE, tz=_zone())
        errors: dict[str, str] = {}
    except ValidationFailed as exc:
        f, page, errors = QueueFilter(), QueuePage([], 0, False, None, None), exc.fields
    choices = _choices()
    now = clock.now()
    centres = choices["centres"]
    html = render_template(
        "incidents/queue/index.html", f=f, page=page, errors=errors, now=now,
        due_within=dt.timedelta(hours=f.due_within),
        saved=saved_filters.list_filters(session, actor), **choices,
        chips=queue_view.chips(f, choices["organisations"], choices["staff"], centres),
        centre_labels={c.id: queue_view.centre_name(c) for c in centres},
        # the Centre column, shown when it tells rows apart: several centres, not one chosen
        centre_column=len(centres) > 1 and len(f.centre) != 1,
        new_count_url=_new_count_url(f, now), poll_seconds=POLL_SECONDS,
        reload_url=queue_view.queue_url(f),
        waiting=answers_waiting(session, [incident.id for incident in page.items]),
        campaigns=_campaigns(session, actor, page.items),
        sighted=sighted(session, [incident.id for incident in page.items]),
        save_form=SaveFilterForm(args=urlencode(f.without_cursor().to_args(), doseq=True)),
        delete_form=DeleteFilterForm(), bulk=_bulk_form(request.full_path),
    )  # fmt: skip
    return html, (422 if errors else 200)


def default_view(session: Session, actor: Actor) -> dict[str, str]:
    """What ``/queue`` alone shows: the open incidents — of their centre for a member of exactly
    one centre other than the national one (a chip shows it, removable); of every centre they
    see for the national centre's members, leads and admins (the national view)."""
    view = dict(DEFAULT_VIEW)
    if actor.centres is not None and len(actor.centres) == 1:
        (centre_id,) = actor.centres
        slug = session.scalar(select(Centre.slug).where(Centre.id == centre_id))
        if slug is not None:
            view["centre"] = slug
    return view


@bp.get("/queue/new-count")
@login_required
def new_count() -> ResponseReturnValue:
    """``{"count": n, "more": bool, "message": "n new incidents"}``: incidents matching the
    queue's filter (its query arguments) received after ``since`` (an ISO date and time with its
    offset: when the page was shown). CERT staff only; counts at most 99, then says "more"."""
    actor, session, clock = _staff(), get_session(), context().clock
    since = _since(request.args.get("since", ""))
    f = QueueFilter.from_args(request.args)  # ValidationFailed → 422 (JSON when asked)
    count = count_new(session, actor, f, since, clock=clock, tz=_zone())
    more = count > NEW_CAP
    shown = min(count, NEW_CAP)
    message = (
        _("More than %(num)s new incidents", num=NEW_CAP)
        if more
        else ngettext("%(num)s new incident", "%(num)s new incidents", shown)
    )
    response = jsonify({"count": shown, "more": more, "message": message})
    response.headers["Cache-Control"] = "no-store"
    return response


def _since(value: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        when = None
    if when is None or when.tzinfo is None or not 1970 <= when.year <= 2200:
        raise ValidationFailed(
            "invalid since", fields={"since": _("a date and time with its offset")}
        )
    return when.astimezone(dt.UTC)


def _new_count_url(f: QueueFilter, now: dt.datetime) -> str:
    args = f.without_cursor().to_args() | {"since": [now.astimezone(dt.UTC).isoformat()]}
    return url_for("queue.new_count") + "?" + urlencode(args, doseq=True)


@bp.route("/queue.csv")
@login_required
def export() -> ResponseReturnValue:
    actor, session, clock = _staff(), get_session(), context().clock
    f = QueueFilter.from_args(request.args)  # ValidationFailed → 422 (core.web)
    now = clock.now()
    rows = queue_rows(session, actor, f, clock=clock, tz=_zone())

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(HEADER)
        yield "\ufeff" + _drain(buffer)  # BOM: Excel reads UTF-8
        for incident in rows:
            writer.writerow(csv_row(incident, now, f.due_within))
            yield _drain(buffer)

    name = f"vigie-queue-{now:%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/queue/filters")
@login_required
def save_filter() -> ResponseReturnValue:
    actor, session, form = _staff(), get_session(), SaveFilterForm()
    f = QueueFilter.from_args(parse_qs(form.args.data or ""))
    if form.validate():
        try:
            saved_filters.save_filter(session, actor, form.name.data, f, clock=context().clock)
            unit_of_work().commit()
            flash(_("Filter saved."), "success")
        except (ValidationFailed, Conflict) as exc:
            unit_of_work().rollback()
            flash(_("Not saved: %(why)s", why="; ".join(exc.fields.values())), "danger")
    else:
        flash(_("Give the filter a name."), "danger")
    return redirect(_queue_url(f))


@bp.post("/queue/filters/<int:filter_id>/delete")
@login_required
def delete_filter(filter_id: int) -> ResponseReturnValue:
    actor, session = _staff(), get_session()
    if not DeleteFilterForm().validate():
        raise PermissionDenied("invalid form")
    saved_filters.delete_filter(session, actor, filter_id, clock=context().clock)
    unit_of_work().commit()
    flash(_("Filter deleted."), "success")
    return redirect(url_for(".index"))


@bp.post("/queue/bulk")
@login_required
def bulk() -> ResponseReturnValue:
    actor, session, form = _staff(), get_session(), _bulk_form()
    back = form.back.data if (form.back.data or "").startswith("/queue") else url_for(".index")
    if not form.validate():
        flash(_("Choose an action."), "danger")
        return redirect(back)
    action = queue_bulk.BulkAction(
        form.action.data, assignee=form.assignee.data or None, status=form.status.data or None,
        resolution=form.resolution.data or None, reason=form.reason.data or None,
        priority=form.priority.data or None, duplicate_of=form.duplicate_of.data or None,
        confirmed=form.confirmed.data == "1",
    )  # fmt: skip
    references = request.form.getlist("incident")
    try:
        errors = queue_bulk.apply(
            session, actor, references, action, clock=context().clock, settings=intake()
        )
    except queue_bulk.ConfirmationNeeded as exc:
        unit_of_work().rollback()  # nothing was written; the same choice again, confirmed
        return render_template(
            "incidents/queue/confirm.html", taken=exc.taken, count=sum(exc.taken.values()),
            form=form, references=references, back=back,
        )  # fmt: skip
    except ValidationFailed as exc:
        errors = exc.fields
    if errors:
        unit_of_work().rollback()  # all or nothing
        flash(_("Nothing was changed:"), "danger")
        for where, problem in errors.items():  # a field's name, or an incident's reference
            flash(f"{say(queue_bulk.FIELDS.get(where, where))} — {say(problem)}", "danger")
    else:
        unit_of_work().commit()
        flash(_("%(count)s incidents updated.", count=len(set(references))), "success")
    return redirect(back)


def _campaigns(session: Session, actor: Actor, incidents: list[Incident]) -> set[int]:
    """The rows sharing an external indicator with another organisation's open incident."""
    if not incidents:
        return set()
    constituency = connections.load_constituency(session)
    return connections.campaign_flags(session, actor, incidents, constituency)


def _bulk_form(back: str | None = None) -> BulkForm:
    form = BulkForm(back=back) if back is not None else BulkForm()
    form.assignee.choices = [("", "—")] + [(u.email, u.name) for u in _staff_users()]
    return form


def _staff_users() -> list[User]:
    query = select(User).where(User.role.in_(sorted(CERT_ROLES)), User.is_active.is_(True))
    return list(get_session().scalars(query.order_by(User.name)))


def _choices() -> dict[str, Any]:
    orgs = list(get_session().scalars(select(Organisation).order_by(Organisation.name)))
    rtl = queue_view.arabic()
    return {
        "organisations": sorted(orgs, key=lambda o: queue_view.org_name(o, rtl).casefold()),
        "sectors": sorted({o.sector for o in orgs if o.sector}),
        "sector_names": {o.sector: queue_view.sector_name(o.sector) for o in orgs if o.sector},
        "staff": _staff_users(),
        "statuses": sorted(STATUS_RANK, key=STATUS_RANK.__getitem__),
        "centres": list_centres(get_session()),  # the national one first
    }


def _queue_url(f: QueueFilter, **changes: Any) -> str:
    args = f.to_args()
    args.update({k: [v] for k, v in changes.items() if v is not None})
    for k in [k for k, v in changes.items() if v is None]:
        args.pop(k, None)
    return url_for("queue.index") + ("?" + urlencode(args, doseq=True) if args else "")


def _sort_url(f: QueueFilter, key: str) -> str:
    """The header link: this column ascending, or descending when already ascending."""
    flip = f"-{key}" if f.sort == key else key
    return _queue_url(f.without_cursor(), sort=None if flip == "-received" else flip)


def _csv_url(f: QueueFilter) -> str:
    args = f.without_cursor().to_args()
    return url_for("queue.export") + ("?" + urlencode(args, doseq=True) if args else "")


def _drain(buffer: io.StringIO) -> str:
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return value


def _zone() -> ZoneInfo:
    return ZoneInfo(intake().timezone)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "labels": labels,
        "local_time": local_time,
        "marking_class": marking_class,
        "sla_state": sla_state,
        "queue_url": _queue_url,
        "sort_url": _sort_url,
        "csv_url": _csv_url,
        "saved_url": _saved_url,
        "rsit_names": {c: names[0] for c, names in labels.RSIT_CLASSES.items()},
        "rsit_type_groups": labels.classification_groups(include_test=True),
        "row_labels": _row_labels,
        "short_time": _short_time,
        **queue_view.helpers(),
    }


def _row_labels() -> dict[str, Any]:
    """Every label a row shows, translated once per page rather than once per row."""
    return {
        "status": {k: _(v) for k, v in labels.STATUSES.items()},
        "priority": {k: _(v) for k, v in labels.PRIORITY_LEVELS.items()},
        "rsit": {k: _(v[0]) for k, v in labels.RSIT_CLASSES.items()},
        "sla": {k: _(name) for k, (name, _meaning) in labels.SLA_STATES.items()},
        "select": _("Select %(reference)s"),  # formatted per row by the template
        "waiting": _("Answer waiting"),
        "waiting_help": _("The reporter answered; the CERT has not replied since."),
        "campaign": _("Possible campaign"),
        "campaign_help": _("Shares external indicators with another organisation’s open incident."),
        "intel": _("Intel match"),
        "intel_help": _("An indicator of the threat-intelligence feeds matches an observable."),
    }  # fmt: skip


def _short_time(value: dt.datetime) -> str:
    """``2026-03-02 14:05`` in the CERT's zone: compact and sortable by eye in a dense table."""
    return value.astimezone(_zone()).strftime("%Y-%m-%d %H:%M")


def _saved_url(saved: saved_filters.SavedFilter) -> str:
    return url_for("queue.index") + "?" + urlencode(saved.args, doseq=True)
