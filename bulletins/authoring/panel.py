"""The incident file's "Bulletins" panel (a :class:`core.web.panels.Panel` of the bulletins
slice's manifest): for CERT staff, the bulletins written from this incident and a "Draft a
bulletin" link (``/bulletins/new?incidents=<reference>``)."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bulletins.models import Bulletin, BulletinIncident
from core.identity.authz import Actor, at_least
from core.identity.models import Role
from core.web import get_session
from core.web.panels import INCIDENT_FILE, Panel
from incidents.models import Incident

MAX_SHOWN = 20


def incident_panel(incident: Incident, actor: Actor) -> Markup | None:
    if not at_least(actor, Role.ANALYST):
        return None
    bulletins = list(
        get_session().scalars(
            select(Bulletin)
            .join(BulletinIncident, BulletinIncident.bulletin_id == Bulletin.id)
            .where(BulletinIncident.incident_id == incident.id)
            .options(selectinload(Bulletin.texts))
            .order_by(Bulletin.id.desc())
            .limit(MAX_SHOWN)
        )
    )
    html = render_template("bulletins/incident_panel.html", incident=incident, bulletins=bulletins)
    return Markup(html)  # noqa: S704 - a Jinja template with autoescaping


PANELS = (Panel(INCIDENT_FILE, incident_panel, order=60),)
