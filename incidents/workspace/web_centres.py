"""The incident file's "Centre" panel actions (blueprint ``incident_file`` of
:mod:`incidents.workspace.web`): transfer the incident to another vigilance centre, share it with
one (read only, or read and work), take a share back. Each is a thin adapter through
:func:`incidents.workspace.web.act` (404 rule first, CSRF, one service call, one commit, a notice
in the panel). An analyst whom the change takes out of the incident's sight (they worked it only
through their old centre) goes to the queue, with a notice naming the centre it went to."""

from __future__ import annotations

from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from core.identity.authz import Actor
from core.web.auth import login_required
from incidents.centres import shares
from incidents.centres.transfer import transfer
from incidents.models import Incident, IncidentEvent
from incidents.rules import labels
from incidents.workspace.forms import ShareForm, TransferForm
from incidents.workspace.web import act, arabic_page, bp, clock

PLACE = "centre"  # the panel's id on the page


def _name(incident: Incident) -> str:
    return incident.centre.display_name("ar" if arabic_page() else "fr")


@bp.post("/incidents/<reference>/transfer")
@login_required
def transfer_incident(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, f: TransferForm) -> object:
        return transfer(s, a, i, f.centre.data, f.reason.data, clock=clock())

    def said(i: Incident, _r: object) -> object:
        return _("Transferred to %(centre)s.", centre=_name(i))

    def gone(i: Incident) -> object:
        return _(
            "%(reference)s was transferred to %(centre)s: you no longer see it.",
            reference=i.reference,
            centre=_name(i),
        )

    return act(reference, "transfer", call, anchor=PLACE, done=said, gone=gone)


@bp.post("/incidents/<reference>/shares")
@login_required
def share_incident(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, f: ShareForm) -> object:
        return shares.share(s, a, i, f.centre.data, f.mode.data, f.reason.data, clock=clock())

    def said(i: Incident, event: object) -> object:
        data = event.data if isinstance(event, IncidentEvent) else {}
        share = next((s for s in i.shares if s.centre.slug == data.get("centre")), None)
        if share is None:
            return _("Shared.")
        arabic = "ar" if arabic_page() else "fr"
        name, mode = share.centre.display_name(arabic), _(labels.SHARE_MODES[share.mode])
        return _("Shared with %(centre)s (%(mode)s).", centre=name, mode=mode)

    return act(reference, "share", call, anchor=PLACE, done=said)


@bp.post("/incidents/<reference>/shares/<centre>/remove")
@login_required
def unshare_incident(reference: str, centre: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, _f: None) -> object:
        return shares.unshare(s, a, i, centre, clock=clock())

    def gone(i: Incident) -> object:
        return _("%(reference)s is no longer shared with your centre.", reference=i.reference)

    return act(
        reference, None, call, anchor=PLACE, done=lambda _i, _r: _("Share taken back."), gone=gone
    )
