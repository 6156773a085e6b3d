"""The list tests' incidents (the queue page and ``GET /api/v1/incidents``), reported in the
kit's world (two ministries with sectors, CERT staff who sign in and hold API tokens): six
incidents spread over every filter.

Received one day apart, oldest first (``now`` is a day after the last):

=========== ========= ======================== ======== ==== =========== ========= ============
name        ministry  class / type             TLP      prio status      assignee  SLA now
=========== ========= ======================== ======== ==== =========== ========= ============
old         santé     intrusions / app.-comp.  GREEN    P3   resolved    —         done
phishing    intérieur fraud / phishing         AMBER    P2   new         —         breached
scan        intérieur information-gathering /  CLEAR    P4   triaged     —         on time
                      scanner
ddos        santé     availability / ddos      GREEN    P3   in_progress analyst2  due in 12 h
red_mine    santé     information-content-     RED      P2   in_progress analyst   on time
                      security / data-leak
ransomware  intérieur malicious-code /         RED      P1   new         —         due in 30 min
                      infected-system
=========== ========= ======================== ======== ==== =========== ========= ============

The analyst does not see ``ransomware`` (TLP:RED, not theirs); the lead sees everything.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

from core.clock import FrozenClock
from incidents.models import Incident, IncidentStatus
from tests.kit.api import URL, bearer
from tests.kit.factories import report
from tests.kit.world import World

ROW = re.compile(r'name="incident" value="([A-Z]+-\d{4}-\d{6})"')
ANALYST_SEES = {"old", "phishing", "scan", "ddos", "red_mine"}


@dataclass
class Lists:
    world: World
    incidents: dict[str, Incident]
    tokens: dict[str, str]  # reporter, other_reporter, analyst, lead
    now: dt.datetime

    def names(self, references: list[str]) -> list[str]:
        by_reference = {i.reference: name for name, i in self.incidents.items()}
        return [by_reference[r] for r in references]

    def api(self, client: FlaskClient, who: str, query: str = "") -> dict[str, Any]:
        """The JSON page of ``GET /api/v1/incidents?query`` for ``who`` (200 expected)."""
        response = client.get(f"{URL}?{query}", headers=bearer(self.tokens[who]))
        assert response.status_code == 200, (query, response.get_data(as_text=True))
        body: dict[str, Any] = response.get_json()
        return body

    def api_names(self, client: FlaskClient, who: str, query: str = "") -> list[str]:
        return self.names([item["reference"] for item in self.api(client, who, query)["items"]])


def build(w: World, clock: FrozenClock) -> Lists:
    session = w.session
    made: dict[str, Incident] = {}

    def add(name: str, user: Any, state: dict[str, Any], **fields: Any) -> None:
        made[name] = report(session, clock, user, state=state, **fields)
        clock.advance(days=1)

    add(
        "old", w.other_reporter, {"status": IncidentStatus.RESOLVED, "priority": "P3"},
        title="Défiguration ancienne du site", description="Page d'accueil remplacée.",
        category="intrusions", type="application-compromise", tlp="TLP:GREEN",
    )  # fmt: skip
    add("phishing", w.reporter, {"priority": "P2"})  # PHISHING: 185.220.101[.]4 and others
    add(
        "scan", w.reporter, {"status": IncidentStatus.TRIAGED, "priority": "P4"},
        title="Balayage de ports depuis l'extérieur", description="Ports 22 et 3389 sondés.",
        category="information-gathering", type="scanner", tlp="TLP:CLEAR",
    )  # fmt: skip
    add(
        "ddos", w.other_reporter,
        {"status": IncidentStatus.IN_PROGRESS, "priority": "P3", "assignee_id": w.analyst2.id},
        title="Déni de service sur le portail", description="Le portail ne répond plus.",
        category="availability", type="ddos", tlp="TLP:GREEN",
    )  # fmt: skip
    add(
        "red_mine", w.other_reporter,
        {"status": IncidentStatus.IN_PROGRESS, "priority": "P2", "assignee_id": w.analyst.id},
        title="Exfiltration de données RH", description="Archive publiée sur un forum.",
        category="information-content-security", type="data-leak", tlp="TLP:RED",
    )  # fmt: skip
    add(
        "ransomware", w.reporter, {"priority": "P1"},
        title="Rançongiciel LockBit sur le contrôleur", description="Fichiers chiffrés.",
        category="malicious-code", type="infected-system", tlp="TLP:RED",
    )  # fmt: skip
    now = clock.now()
    for name, incident in made.items():  # SLA states as the table says, whatever the policy
        done = name in ("old", "scan", "ddos", "red_mine")
        incident.acknowledged_at = incident.received_at + dt.timedelta(minutes=5) if done else None
        incident.ack_due_at = {"phishing": now - dt.timedelta(hours=2)}.get(
            name, now + dt.timedelta(minutes=30)
        )
        incident.resolve_due_at = {"ddos": now + dt.timedelta(hours=12)}.get(
            name, now + dt.timedelta(days=10)
        )
        if name == "old":
            incident.resolved_at = incident.received_at + dt.timedelta(hours=5)
    session.flush()
    tokens = {
        who: w.token(getattr(w, who)) for who in ("reporter", "other_reporter", "analyst", "lead")
    }
    return Lists(w, made, tokens, now)
