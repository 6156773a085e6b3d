"""The scene of the centre dimension of the authorisation tests: two sectoral vigilance centres
(health, finance) besides the national one, their analysts, and incidents routed to each.

* centres ``health`` (sector ``health``: the Health ministry, ``world.sante``) and ``finance``
  (sector ``finance``: a bank), made as rows (their management has its own tests);
* ``health_analyst`` and ``finance_analyst``: members of their centre only; ``national``: an
  analyst of the national coordination centre; ``participant``: a health analyst named on the
  finance incident (and its linked peer); the cast's ``lead`` (no centre, sees all);
  ``reporter``: Karim, of the Health ministry (``world.other_reporter``);
* ``health`` (TLP:AMBER) and ``health_red`` (TLP:RED, assigned to the finance analyst: TLP:RED
  stays with its assignee whatever the centre) of the Health ministry, routed to the health
  centre; ``finance`` (TLP:GREEN) of the bank, routed to the finance centre; each dressed like
  the matrix's incidents (an attachment, an observable, a task, a participant, a link to a peer
  of its own centre).

:func:`share` / :func:`unshare` write the ``incident_shares`` row directly (sharing itself has
its own tests); both take effect at the next request (each reads its actor again).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.centres import Centre, CentreMember, national_centre
from core.identity.models import Organisation, Role, User
from incidents.intake.attachments import add_attachment
from incidents.models import Incident, IncidentShare, ShareMode
from incidents.workspace import merge, observables_admin, tasks, workflow
from tests.kit.factories import make_user, report
from tests.kit.world import World

HEALTH_WORD = "Pharmacie"  # a word of the health incident's title only (search tests)


@dataclass
class Centres:
    world: World
    health_centre: Centre
    finance_centre: Centre
    bank: Organisation
    health_analyst: User
    finance_analyst: User
    national: User
    participant: User
    helper: User  # named on every dressed incident; the matrix removes them, not a role
    health: Incident
    health_red: Incident
    finance: Incident
    health_peer: Incident  # linked to the health incident
    ids: dict[int, dict[str, Any]]  # incident id → path parameters of its sub-resources

    @property
    def lead(self) -> User:
        return self.world.lead

    @property
    def reporter(self) -> User:
        return self.world.other_reporter


def make_centre(session: Session, clock: FrozenClock, slug: str, sector: str) -> Centre:
    now = clock.now()
    centre = Centre(
        slug=slug, name=f"Centre {slug}", name_ar=None, sectors=[sector], regions=[],
        categories=[], working_hours={}, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(centre)
    session.flush()
    return centre


def member_of(session: Session, clock: FrozenClock, centre: Centre, email: str) -> User:
    """A new analyst, member of ``centre`` only (not of the national centre)."""
    user = make_user(session, clock, role=Role.ANALYST, email=email)
    national = national_centre(session)
    session.execute(
        delete(CentreMember).where(
            CentreMember.user_id == user.id, CentreMember.centre_id == national.id
        )
    )
    session.add(CentreMember(centre_id=centre.id, user_id=user.id, added_at=clock.now()))
    session.flush()
    return user


def share(session: Session, incident: Incident, centre: Centre, mode: ShareMode) -> None:
    unshare(session, incident, centre)
    session.add(
        IncidentShare(
            incident_id=incident.id, centre_id=centre.id, mode=mode, shared_at=incident.updated_at
        )
    )
    session.flush()
    session.expire(incident)


def unshare(session: Session, incident: Incident, centre: Centre) -> None:
    session.execute(
        delete(IncidentShare).where(
            IncidentShare.incident_id == incident.id, IncidentShare.centre_id == centre.id
        )
    )
    session.flush()
    session.expire(incident)


def dress(
    session: Session, clock: FrozenClock, incident: Incident, lead: User, helper: User,
    peer: Incident, upload_dir: Path, domain: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """An attachment (the reporter's: a reporter downloads only the files their organisation
    sent), an observable (``domain``, by default one named after the incident), a task, a
    participant and a link on ``incident``."""
    actor = Actor.for_user(lead)
    sender = Actor.for_user(session.get(User, incident.reporter_id))  # type: ignore[arg-type]
    attachment = add_attachment(
        session, sender, incident, filename="notes.txt", stream=io.BytesIO(b"notes"),
        clock=clock, upload_dir=upload_dir, max_bytes=10**6,
    )  # fmt: skip
    value = domain or f"evil-{incident.reference.lower()}.example"
    observable = observables_admin.add_observable(
        session, actor, incident, "domain", value, clock=clock
    )
    task = tasks.add_task(session, actor, incident, "Block the domain", clock=clock)
    workflow.add_participant(session, actor, incident, helper, clock=clock)
    merge.link(session, actor, incident, peer, clock=clock)
    session.flush()
    return {
        "reference": incident.reference,
        "attachment_id": attachment.id,
        "observable_id": observable.id,
        "task_id": task.id,
        "user_id": helper.id,
        "other": peer.reference,
    }


def build(session: Session, clock: FrozenClock, world: World, upload_dir: Path) -> Centres:
    health_centre = make_centre(session, clock, "sante", "health")
    finance_centre = make_centre(session, clock, "finance", "finance")
    bank = world.org(slug="banque-centrale", name="Banque", sector="finance")
    health_analyst = member_of(session, clock, health_centre, "salma@cert.gov.ma")
    finance_analyst = member_of(session, clock, finance_centre, "omar@cert.gov.ma")
    participant = member_of(session, clock, health_centre, "nadia@cert.gov.ma")
    national = make_user(session, clock, role=Role.ANALYST, email="driss@cert.gov.ma")
    helper = make_user(session, clock, role=Role.ANALYST, email="aide@cert.gov.ma", password=None)
    lead, actor = world.lead, Actor.for_user(world.lead)
    karim = world.other_reporter
    health = report(session, clock, karim, tlp="TLP:AMBER", title=f"{HEALTH_WORD} : hameçonnage")
    health_red = report(session, clock, karim, tlp="TLP:RED", title="Rançongiciel à l'hôpital")
    health_peer = report(session, clock, karim, tlp="TLP:AMBER", title="Hameçonnage, suite")
    finance = report(session, clock, bank, tlp="TLP:GREEN", title="Fraude au virement")
    finance_peer = report(session, clock, bank, tlp="TLP:GREEN", title="Fraude, suite")
    workflow.assign(session, actor, health_red, finance_analyst, clock=clock)
    for incident in (finance, finance_peer):
        workflow.add_participant(session, actor, incident, participant, clock=clock)
    ids = {
        i.id: dress(session, clock, i, lead, helper, peer, upload_dir)
        for i, peer in ((health, health_peer), (health_red, finance_peer), (finance, finance_peer))
    }
    session.flush()
    return Centres(
        world, health_centre, finance_centre, bank, health_analyst, finance_analyst, national,
        participant, helper, health, health_red, finance, health_peer, ids,
    )  # fmt: skip
