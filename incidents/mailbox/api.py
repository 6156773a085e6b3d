"""REST adapter of the held-mail queue, on the ``incidents_api`` blueprint (``/api/v1/mail``).

The same use cases as the pages (:mod:`incidents.mailbox.held`), for CERT staff tokens only: a
reporter's token gets ``404`` as the pages do (the mailbox does not exist for it). A decision on
a message handled already is a ``409``; bad input a ``422`` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue

from core.api import parse_json, parse_query
from core.api.openapi import Reply, operation
from core.errors import NotFound
from core.identity.authz import Actor
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor
from incidents.blueprints import WRITE_RATE_LIMIT
from incidents.blueprints import api as bp
from incidents.intake.api import incident_out
from incidents.mailbox import held, labels
from incidents.mailbox.models import InboundMail, MailStatus
from incidents.mailbox.schemas import (
    AttachmentOut,
    MailAttachIn,
    MailDecisionOut,
    MailDetailOut,
    MailDiscardIn,
    MailIncidentIn,
    MailOut,
    MailQuery,
    Verdicts,
)
from incidents.models import Incident
from incidents.web import intake

TAG = "mailbox"
B = TypeVar("B", MailIncidentIn, MailAttachIn, MailDiscardIn)
MAIL_ID = {"mail_id": "The message's id"}
ERRORS = (404, 409, 422)


def _staff() -> Actor:
    actor = current_actor()
    if not actor.is_cert_staff:
        raise NotFound("no such resource")
    return actor


def mail_out(mail: InboundMail) -> MailOut:
    return MailOut(**_fields(mail))


def _fields(mail: InboundMail) -> dict[str, object]:
    auth = mail.authentication
    return {
        "id": mail.id,
        "received_at": mail.received_at,
        "source": mail.source.value,
        "status": mail.status.value,
        "hold_reason": mail.hold_reason.value if mail.hold_reason else None,
        "hold_detail": mail.hold_detail,
        "from_address": mail.from_address,
        "from_name": mail.from_name,
        "subject": mail.subject,
        "message_id": mail.message_id,
        "sent_at": mail.sent_at,
        "size": mail.size,
        "authentication": Verdicts.model_validate(auth) if auth else None,
        "incident": mail.incident.reference if mail.incident else None,
        "handled_by": mail.handled_by.email if mail.handled_by else None,
        "handled_at": mail.handled_at,
        "handling_note": mail.handling_note,
        "error": mail.error,
    }


def _statuses(status: str) -> tuple[MailStatus, ...]:
    if status in labels.TABS:
        return labels.TABS[status][1]
    return (MailStatus(status),)


@bp.get("/mail")
@operation(
    summary="List received messages",
    description="The held-mail queue: `held` messages by default, newest first. Follow `next` "
    "(a keyset cursor, `before`). CERT staff only.",
    tag=TAG,
    query=MailQuery,
    replies={200: Reply("One page of messages", MailOut, paginated=True)},
    errors=(404, 422),
)
def mail_list() -> ResponseReturnValue:
    actor, session = _staff(), get_session()
    query = parse_query(MailQuery)
    statuses = _statuses(query.status)
    page = held.list_mails(
        session, actor, statuses=statuses, reason=query.reason, before_id=query.before,
        limit=query.limit,
    )  # fmt: skip
    following = None
    if page.next_before_id is not None:
        following = url_for(
            ".mail_list", status=query.status, reason=query.reason, before=page.next_before_id,
            limit=query.limit, _external=True,
        )  # fmt: skip
    return jsonify(
        {
            "items": [mail_out(mail).model_dump(mode="json") for mail in page.mails],
            "total": held.count_mails(session, actor, statuses=statuses, reason=query.reason),
            "next": following,
        }
    )


@bp.get("/mail/<int:mail_id>")
@operation(
    summary="Show a received message",
    description="Its headers, verdicts, text and attachments (names, declared types and sizes: "
    "never their content). CERT staff only.",
    tag=TAG,
    path_params=MAIL_ID,
    replies={200: Reply("The message", MailDetailOut)},
    errors=(404,),
)
def mail_show(mail_id: int) -> ResponseReturnValue:
    mail = held.get_mail(get_session(), _staff(), mail_id)
    detail = MailDetailOut(**_fields(mail))
    try:
        parsed = held.read_mail(mail, intake())
    except Exception:  # noqa: BLE001 — a message that failed to parse is still shown, textless
        return jsonify(detail.model_dump(mode="json"))
    detail.to = list(parsed.to)
    detail.text = parsed.text
    detail.html_only = parsed.html_only
    detail.attachments = [
        AttachmentOut(
            filename=part.filename,
            declared_type=part.declared_type,
            size=len(part.content),
            forwarded=part.forwarded,
            too_large=part.too_large,
        )  # fmt: skip
        for part in parsed.attachments
    ]
    return jsonify(detail.model_dump(mode="json"))


def _decide(
    mail_id: int, body: type[B], act: Callable[[Actor, InboundMail, B], Incident | None]
) -> ResponseReturnValue:
    """One decision on a held message, in one unit of work: the message read after taking the
    write lock (SQLite; the service locks the row), the body parsed, the service called
    (``act``), one commit, the answer."""
    actor = _staff()
    mail = held.get_mail(unit_of_work().write(), actor, mail_id)
    data = parse_json(body)
    return _decided(mail, act(actor, mail, data))


def _decided(mail: InboundMail, incident: Incident | None) -> ResponseReturnValue:
    """The message as decided and its incident — unless the decider may not see it (a
    ``TLP:RED`` incident made by an analyst: ``incident`` is null, its reference is in
    ``mail``)."""
    session, actor = get_session(), current_actor()
    unit_of_work().commit()
    shown = incident if incident and held.sees_incident(session, actor, incident) else None
    out = MailDecisionOut(
        mail=mail_out(held.decided(session, actor, mail)),
        incident=incident_out(shown) if shown is not None else None,
    )
    return jsonify(out.model_dump(mode="json"))


@bp.post("/mail/<int:mail_id>/incident")
@operation(
    summary="Make an incident of a held message",
    description="Through the intake service, for the organisation named by its slug; the "
    "message's text, observables and attachments go with it. 409 when the message was handled "
    "already. CERT staff only.",
    tag=TAG,
    body=MailIncidentIn,
    path_params=MAIL_ID,
    replies={200: Reply("The message and its new incident", MailDecisionOut)},
    errors=ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def mail_incident(mail_id: int) -> ResponseReturnValue:
    def act(actor: Actor, mail: InboundMail, data: MailIncidentIn) -> Incident:
        return held.make_incident(
            get_session(), actor, mail, organisation=data.organisation, title=data.title,
            tlp=data.tlp.value, note=data.note, acknowledge=data.acknowledge,
            clock=context().clock, settings=intake(),
        )  # fmt: skip

    return _decide(mail_id, MailIncidentIn, act)


@bp.post("/mail/<int:mail_id>/attach")
@operation(
    summary="Attach a held message to an incident",
    description="Added to the incident's conversation as the reporter's answer, with its "
    "attachments. 422 naming `reference` for an incident that does not exist; 409 when the "
    "message was handled already. CERT staff only.",
    tag=TAG,
    body=MailAttachIn,
    path_params=MAIL_ID,
    replies={200: Reply("The message and the incident", MailDecisionOut)},
    errors=ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def mail_attach(mail_id: int) -> ResponseReturnValue:
    def act(actor: Actor, mail: InboundMail, data: MailAttachIn) -> Incident:
        return held.attach_to_incident(
            get_session(), actor, mail, reference=data.reference, note=data.note,
            clock=context().clock, settings=intake(),
        )  # fmt: skip

    return _decide(mail_id, MailAttachIn, act)


@bp.post("/mail/<int:mail_id>/discard")
@operation(
    summary="Discard a held or failed message",
    description="Kept stored, for the record. 409 when the message was handled already. CERT "
    "staff only.",
    tag=TAG,
    body=MailDiscardIn,
    path_params=MAIL_ID,
    replies={200: Reply("The message (`incident` null)", MailDecisionOut)},
    errors=ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def mail_discard(mail_id: int) -> ResponseReturnValue:
    def act(actor: Actor, mail: InboundMail, data: MailDiscardIn) -> None:
        held.discard(get_session(), actor, mail, note=data.note, clock=context().clock)

    return _decide(mail_id, MailDiscardIn, act)
