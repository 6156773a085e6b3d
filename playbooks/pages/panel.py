"""The incident file's "Playbooks" panel (a :class:`core.web.panels.Panel` of the playbooks
slice's manifest): the incident's runs (status, playbook, steps done, the steps they wait on)
and, for CERT staff, a form starting an enabled after-incident playbook on it
(:func:`playbooks.pages.web_runs.start`)."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from core.identity.authz import Actor
from core.web import get_session
from core.web.panels import INCIDENT_FILE, Panel
from incidents.models import Incident
from playbooks.pages import queries
from playbooks.pages.forms import StartForm
from playbooks.pages.web_runs import engine


def incident_panel(incident: Incident, actor: Actor) -> Markup | None:
    if not actor.is_cert_staff:
        return None
    session = get_session()
    form = StartForm(formdata=None)
    form.offer(queries.startable(session))
    html = render_template(
        "playbooks/panel.html",
        incident=incident,
        runs=queries.incident_runs(session, incident),
        form=form,
        can_start=engine("start_manual_run") is not None,
    )
    return Markup(html)  # noqa: S704 - a Jinja template with autoescaping


PANELS = (Panel(INCIDENT_FILE, incident_panel, order=50),)
