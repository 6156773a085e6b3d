"""The held-mail queue's pages (adapters; CERT staff only, reporters get a ``404``).

``/mail`` lists the messages by tab (held, failed, handled), newest first, in keyset pages;
``/mail/<id>`` shows one — its headers, the receiving MTA's verdicts, the text as text, the
attachments by name — and the analysts' three decisions (make an incident, attach to one,
discard), or reprocessing for a message that failed. Each decision is one service call of
:mod:`incidents.mailbox.held` in one unit of work. The navigation's "held mail" entry and its
count of open messages come from this module's context processor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError
from wtforms import SelectChoice

from core import inputs
from core.errors import Conflict, NotFound, ValidationFailed
from core.identity.authz import Actor
from core.web import context, get_session, int_arg, say, unit_of_work
from core.web.auth import current_account, current_actor, login_required
from incidents.mailbox import held, labels, receiving, store
from incidents.mailbox.forms import ActionForm, AttachForm, DiscardForm, IncidentForm
from incidents.mailbox.models import HoldReason, InboundMail, MailStatus
from incidents.models import Incident
from incidents.web import file_size, intake, local_time

log = logging.getLogger(__name__)
bp = Blueprint("mailbox", __name__, template_folder="../templates")
DETAIL = "mailbox.show"
T = TypeVar("T")
F = TypeVar("F", IncidentForm, AttachForm, DiscardForm)


def _staff() -> Actor:
    actor = current_actor()
    if not actor.is_cert_staff:
        raise NotFound("no such page")
    return actor


# ---------------------------------------------------------------- the navigation's entry
@dataclass
class HeldMail:
    """The navigation's "held mail" entry: open messages, counted once per page, when shown."""

    actor: Actor

    @cached_property
    def count(self) -> int | None:
        try:
            return held.count_open(get_session(), self.actor)
        except SQLAlchemyError:
            log.warning("the held mail could not be counted", exc_info=True)
            return None


@bp.app_context_processor
def _mailbox_globals() -> dict[str, Any]:
    account = current_account()
    if account is None or not account.is_cert_staff:
        return {}
    return {"held_mail": HeldMail(Actor.for_user(account))}


# ---------------------------------------------------------------- the queue
def _tab() -> str:
    tab = request.args.get("tab", "held") or "held"
    if tab not in labels.TABS:
        raise ValidationFailed("invalid tab", fields={"tab": "held, failed or handled"})
    return tab


def _reason() -> HoldReason | None:
    raw = request.args.get("reason", "")
    if not raw:
        return None
    try:
        return HoldReason(raw)
    except ValueError:
        raise ValidationFailed("invalid reason", fields={"reason": "a hold reason"}) from None


@bp.get("/mail")
@login_required
def index() -> ResponseReturnValue:
    actor, session = _staff(), get_session()
    tab, reason = _tab(), _reason()
    before = int_arg("before", low=1, high=inputs.MAX_ID)
    statuses = labels.TABS[tab][1]
    page = held.list_mails(session, actor, statuses=statuses, reason=reason, before_id=before)
    return render_template(
        "incidents/mailbox/list.html",
        page=page,
        tab=tab,
        reason=reason,
        before=before,
        attachments=store.attachment_counts(page.mails, intake()),
        labels=labels,
        local_time=local_time,
    )


# ---------------------------------------------------------------- one message
@bp.get("/mail/<int:mail_id>")
@login_required
def show(mail_id: int) -> ResponseReturnValue:
    actor = _staff()
    mail = held.get_mail(get_session(), actor, mail_id)
    return _page(actor, mail)


def _page(
    actor: Actor,
    mail: InboundMail,
    *,
    incident_form: IncidentForm | None = None,
    attach_form: AttachForm | None = None,
    discard_form: DiscardForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    session = get_session()
    parsed, unreadable = None, None
    try:
        parsed = held.read_mail(mail, intake())
    except NotFound:
        unreadable = _("The stored message is missing.")
    except Exception:  # noqa: BLE001 — a message that crashed the parser still has its page
        log.info("message %s could not be parsed for its page", mail.id, exc_info=True)
        unreadable = _("The message could not be read: %(error)s", error=mail.error or "—")
    organisations = held.constituents(session, actor)
    if incident_form is None:
        incident_form = IncidentForm(
            formdata=None, title=held.clean_subject(mail.subject, intake().reference_prefix)
        )
        if mail.organisation is not None:
            incident_form.organisation.data = mail.organisation.slug
    own = held.sender_organisations(session, mail.from_address)
    contact_of = [org for org in organisations if org.id in own]
    # the acknowledgement is offered for the sender's own organisations (mailbox.js shows it
    # only when one of them is chosen; the service refuses it for any other)
    incident_form.organisation.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(org.slug, org.name, render_kw={"data-sender-contact": "1"})
        if org in contact_of
        else SelectChoice(org.slug, org.name)
        for org in organisations
    ]
    html = render_template(
        "incidents/mailbox/show.html",
        mail=mail,
        parsed=parsed,
        unreadable=unreadable,
        incident_form=incident_form,
        attach_form=attach_form or AttachForm(formdata=None),
        discard_form=discard_form or DiscardForm(formdata=None),
        action_form=ActionForm(),
        contact_of=contact_of,
        labels=labels,
        local_time=local_time,
        file_size=file_size,
    )
    return html, status


def _refused(exc: ValidationFailed, form: Any) -> None:
    """The service's field errors onto the form's fields (the rest as a flash message)."""
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, say(message)]
        else:
            flash(say(message), "danger")


def _open_for_decision(mail_id: int) -> tuple[Actor, InboundMail]:
    """The message, read after taking the write lock (SQLite) so that a decision taken
    meanwhile is seen; the service locks the row (PostgreSQL)."""
    actor, uow = _staff(), unit_of_work()
    mail = held.get_mail(uow.write(), actor, mail_id)
    return actor, mail


def _conflict(exc: Conflict, mail_id: int) -> ResponseReturnValue:
    unit_of_work().rollback()
    flash(say(exc.message), "warning")
    return redirect(url_for(DETAIL, mail_id=mail_id), 303)


def _decide(
    mail_id: int,
    form_class: type[F],
    slot: str,
    act: Callable[[Actor, InboundMail, F], T],
    done: Callable[[Actor, T], ResponseReturnValue],
) -> ResponseReturnValue:
    """One decision on a held message, in one unit of work: the message read under the write
    lock, the form checked, the service called (``act``), one commit, then ``done``. Refused
    input shows the page again with the form's errors (``slot`` is its name there, ``422``); a
    decision taken meanwhile goes back to the message with a warning."""
    actor, mail = _open_for_decision(mail_id)
    form = form_class()
    if not form.validate():
        return _page(actor, mail, status=422, **{slot: form})
    try:
        result = act(actor, mail, form)
    except ValidationFailed as exc:
        unit_of_work().rollback()
        _refused(exc, form)
        return _page(actor, held.get_mail(get_session(), actor, mail_id), status=422,
                     **{slot: form})  # fmt: skip
    except Conflict as exc:
        return _conflict(exc, mail_id)
    unit_of_work().commit()
    return done(actor, result)


@bp.post("/mail/<int:mail_id>/incident")
@login_required
def make_incident(mail_id: int) -> ResponseReturnValue:
    def act(actor: Actor, mail: InboundMail, form: IncidentForm) -> Incident:
        return held.make_incident(
            get_session(), actor, mail, organisation=form.organisation.data or "",
            title=form.title.data, tlp=form.tlp.data, note=form.note.data,
            acknowledge=bool(form.acknowledge.data), clock=context().clock, settings=intake(),
        )  # fmt: skip

    def done(actor: Actor, incident: Incident) -> ResponseReturnValue:
        flash(_("Incident %(reference)s created from the message.", reference=incident.reference),
              "success")  # fmt: skip
        if not held.sees_incident(get_session(), actor, incident):  # TLP:RED, by an analyst
            flash(_("Only its assignee, its participants and the leads see a TLP:RED incident."),
                  "info")  # fmt: skip
            return redirect(url_for("mailbox.index"), 303)
        return redirect(url_for(DETAIL, mail_id=mail_id), 303)

    return _decide(mail_id, IncidentForm, "incident_form", act, done)


@bp.post("/mail/<int:mail_id>/attach")
@login_required
def attach(mail_id: int) -> ResponseReturnValue:
    def act(actor: Actor, mail: InboundMail, form: AttachForm) -> Incident:
        return held.attach_to_incident(
            get_session(), actor, mail, reference=form.reference.data or "",
            note=form.note.data, clock=context().clock, settings=intake(),
        )  # fmt: skip

    def done(actor: Actor, incident: Incident) -> ResponseReturnValue:
        flash(_("Message added to the conversation of %(reference)s.",
                reference=incident.reference), "success")  # fmt: skip
        return redirect(url_for(DETAIL, mail_id=mail_id), 303)

    return _decide(mail_id, AttachForm, "attach_form", act, done)


@bp.post("/mail/<int:mail_id>/discard")
@login_required
def discard(mail_id: int) -> ResponseReturnValue:
    def act(actor: Actor, mail: InboundMail, form: DiscardForm) -> None:
        held.discard(get_session(), actor, mail, note=form.note.data, clock=context().clock)

    def done(actor: Actor, _result: None) -> ResponseReturnValue:
        flash(_("Message discarded."), "success")
        return redirect(url_for(DETAIL, mail_id=mail_id), 303)

    return _decide(mail_id, DiscardForm, "discard_form", act, done)


@bp.post("/mail/<int:mail_id>/reprocess")
@login_required
def reprocess(mail_id: int) -> ResponseReturnValue:
    """A message whose processing failed, taken again from its stored bytes."""
    actor = _staff()
    if not ActionForm().validate():
        raise ValidationFailed("invalid form", fields={"csrf_token": "the form has expired"})
    mail = held.get_mail(get_session(), actor, mail_id)
    if mail.status is not MailStatus.FAILED:
        flash(_("Only a message that failed can be reprocessed."), "warning")
        return redirect(url_for(DETAIL, mail_id=mail_id), 303)
    uow = unit_of_work()
    uow.rollback()  # reprocessing runs its own transactions
    results = receiving.reprocess(uow, [mail_id], settings=intake())
    done = results[0] if results else None
    if done is None or done.status is MailStatus.FAILED:
        flash(_("The message failed again: %(error)s", error=(done.error if done else "—")),
              "danger")  # fmt: skip
    else:
        flash(_("Message reprocessed: %(status)s.", status=_(labels.STATUSES[done.status])),
              "success")  # fmt: skip
    return redirect(url_for(DETAIL, mail_id=mail_id), 303)


@bp.get("/mail/<int:mail_id>/raw")
@login_required
def raw(mail_id: int) -> ResponseReturnValue:
    """The stored message as a ``.eml`` file: always a download, never rendered."""
    actor = _staff()
    mail = held.get_mail(get_session(), actor, mail_id)
    data = held.raw_bytes(mail, intake())
    return Response(
        data,
        mimetype="message/rfc822",
        headers={
            "Content-Disposition": f'attachment; filename="message-{mail.id}.eml"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
