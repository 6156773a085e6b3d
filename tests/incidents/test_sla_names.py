"""The SLA states have one vocabulary with clear names (issue 17): on time, due soon, overdue,
met, missed (done late), not applicable — defined in ``incidents.rules`` and said the same way on
the status page, the incident file, the queue and the PDF, in French and Arabic; never the
contradiction "Respecté en retard"."""

from __future__ import annotations

import datetime as dt
import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.i18n import translations
from incidents.models import Incident
from incidents.named import event_views
from incidents.reporting.report_pdf import report_html
from incidents.rules import labels
from incidents.rules.sla import SlaState
from incidents.workspace import workflow
from incidents.workspace.conversation import timeline
from tests.kit.factories import SETTINGS, report
from tests.kit.web import logout, sign_in, text
from tests.kit.world import World

MISSED = "Manqué (fait en retard)"


def test_every_state_has_a_name_and_a_meaning_in_french_and_arabic() -> None:
    assert set(labels.SLA_STATES) == {state.value for state in SlaState}
    for locale in ("fr", "ar"):
        catalogue = translations(locale)
        for name, meaning in labels.SLA_STATES.values():
            assert catalogue.gettext(name) != name and catalogue.gettext(meaning) != meaning
    assert translations("fr").gettext(labels.SLA_STATES["missed"][0]) == MISSED


def resolved_late(session: Session, clock: FrozenClock, world: World) -> Incident:
    incident = report(session, clock, world.reporter)
    analyst = world.actor(world.analyst)
    workflow.change_status(session, analyst, incident, "triaged", clock=clock, settings=SETTINGS)
    clock.set(incident.resolve_due_at + dt.timedelta(hours=2))
    for status in ("resolved", "closed"):
        workflow.change_status(
            session, analyst, incident, status, clock=clock, settings=SETTINGS,
            resolution="Poste réinstallé", assignee=world.analyst,
        )  # fmt: skip
    session.commit()
    return incident


def test_a_deadline_done_late_is_missed_everywhere(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = resolved_late(db_session, clock, world)
    sign_in(client, world.reporter)
    track = text(client.get(f"/track/{incident.reference}?lang=fr"))
    assert MISSED in track and "Respecté en retard" not in track
    assert re.search(r"vigie-sla-met[^>]*>Respecté<", track)  # acknowledged in time
    logout(client)
    sign_in(client, world.analyst)
    file = text(client.get(f"/incidents/{incident.reference}?lang=fr"))
    assert MISSED in file and "Respecté en retard" not in file
    queue = text(client.get("/queue?status=closed&lang=fr"))
    assert re.search(rf"vigie-sla-missed[^>]*>{re.escape(MISSED)}<", queue)
    arabic = text(client.get("/queue?status=closed&lang=ar"))
    assert translations("ar").gettext("Missed (done late)") in arabic
    actor = world.actor(world.analyst)
    events = timeline(db_session, actor, incident, public_only=False, limit=50)
    html = report_html(
        incident, events=event_views(db_session, actor, events), observables=[], origins={},
        tasks=[], staff=True, locale="fr", zone="Africa/Casablanca", now=clock.now(),
    )  # fmt: skip
    assert MISSED in html and "Respecté en retard" not in html
