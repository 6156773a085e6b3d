"""Two ministries whose reports were merged across organisations, for the cross-organisation
tests (``test_cross_organisation*.py``).

* ``survivor``: the Interior ministry's TLP:AMBER report, ``in_progress``; Health's ``duplicate``
  (TLP:AMBER, with an attachment) was merged into it by a lead who named both organisations.
* ``red``: the Interior ministry's TLP:RED report, assigned to ``assignee``; Health's
  ``red_duplicate`` (TLP:RED) was merged into it; a lead linked it to ``survivor``.

``SECRETS`` lists, per incident, the values only its own organisation and the CERT staff who may
see it must ever read: observables, title, reference, attachment name.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from core.identity.authz import Actor
from core.identity.models import Role, User
from incidents.intake.attachments import add_attachment
from incidents.models import Incident
from incidents.workspace import merge, workflow
from tests.kit.factories import SETTINGS, report
from tests.kit.world import World

SURVIVOR = {
    "title": "Hameçonnage du webmail de l'Intérieur",
    "description": "Lien hxxps://webmail-interieur[.]com/login.php depuis 185.220.101[.]4",
}
DUPLICATE = {
    "title": "Fuite de dossiers médicaux à la Santé",
    "description": "Exfiltration vers sante-exfil[.]example depuis 198.51.100.77, "
    "boîte leak@sante-exfil.example, faille CVE-2024-31337",
}
RED = {
    "title": "Compromission du cabinet du ministre",
    "description": "Balise vers cabinet-c2[.]example",
}
RED_DUPLICATE = {
    "title": "Intrusion au cabinet de la ministre de la Santé",
    "description": "Beacon 203.0.113.66 vers red-sante[.]example",
}
ATTACHMENT = "dossier-sante-confidentiel.txt"
ATTACHED_VALUE = "c2-dossier.example"  # found in the attachment, so source attachment:…


@dataclass
class Cross:
    world: World
    assignee: User
    survivor: Incident
    duplicate: Incident
    red: Incident
    red_duplicate: Incident

    def secrets(self, name: str) -> list[str]:
        """What only those who may see incident ``name`` may read."""
        own = {
            "survivor": ["webmail-interieur.com", "185.220.101.4"],
            "duplicate": [
                "sante-exfil.example",
                "198.51.100.77",
                "leak@sante-exfil.example",
                "CVE-2024-31337",
                ATTACHMENT,
                ATTACHED_VALUE,
            ],
            "red": ["cabinet-c2.example"],
            "red_duplicate": ["203.0.113.66", "red-sante.example"],
        }[name]
        incident: Incident = getattr(self, name)
        return [incident.reference, incident.title, *own]


def confirm(*incidents: Incident) -> list[str]:
    return [i.organisation.slug for i in incidents]


def build(world: World, upload_dir: Path) -> Cross:
    """The scene in ``world`` (attachments stored under ``upload_dir``); the ``cross`` fixture."""
    session, clock = world.session, world.clock
    assignee = world.user(Role.ANALYST, email="assignee@cert.ma")
    lead = Actor.for_user(world.lead)
    survivor = report(session, clock, world.reporter, tlp="TLP:AMBER", **SURVIVOR)
    duplicate = report(session, clock, world.other_reporter, tlp="TLP:AMBER", **DUPLICATE)
    add_attachment(
        session, Actor.for_user(world.other_reporter), duplicate, filename=ATTACHMENT,
        stream=io.BytesIO(f"balise vers {ATTACHED_VALUE}".encode()), clock=clock,
        upload_dir=upload_dir, max_bytes=10**6,
    )  # fmt: skip
    red = report(session, clock, world.reporter, tlp="TLP:RED", **RED)
    red_duplicate = report(session, clock, world.other_reporter, tlp="TLP:RED", **RED_DUPLICATE)
    workflow.assign(session, lead, red, assignee, clock=clock)
    for status in ("triaged", "in_progress"):
        workflow.change_status(session, lead, survivor, status, clock=clock, settings=SETTINGS)
    for folded, into in ((duplicate, survivor), (red_duplicate, red)):
        merge.merge(
            session, lead, into, folded, clock=clock, settings=SETTINGS,
            confirm_organisations=confirm(folded, into),
        )  # fmt: skip
    merge.link(session, lead, survivor, red, clock=clock)
    session.flush()
    return Cross(world, assignee, survivor, duplicate, red, red_duplicate)
