"""Two sectoral vigilance centres (health, finance) besides the national one, an analyst in each,
and incidents routed to each by the real intake (the organisation's sector): the scene of the
queue's and the dashboard's centre tests.

* ``health`` takes the health sector (the kit's ``sante``), ``finance`` the finance sector (a new
  ministry ``min-finances``); the kit's ``interieur`` (government) stays with the national centre;
* ``health_analyst`` and ``finance_analyst`` are members of their centre only; the kit's
  ``analyst`` is a member of the national centre (every centre), ``lead`` sees all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from core.auth import services as accounts
from core.clock import FrozenClock
from core.identity.centres import Centre, national_centre
from core.identity.models import Organisation, Role, User
from incidents.models import Incident
from tests.kit.factories import PASSWORD, SYSTEM, report
from tests.kit.world import World


@dataclass
class CentreScene:
    national: Centre
    health: Centre
    finance: Centre
    finances: Organisation  # a ministry of the finance sector
    health_analyst: User
    finance_analyst: User
    health_incidents: list[Incident] = field(default_factory=list)
    finance_incidents: list[Incident] = field(default_factory=list)
    national_incidents: list[Incident] = field(default_factory=list)

    def refs(self, *groups: list[Incident]) -> set[str]:
        return {i.reference for group in groups for i in group}


def make_centre(
    session: Session, clock: FrozenClock, slug: str, name: str, name_ar: str, sectors: list[str]
) -> Centre:
    now = clock.now()
    centre = Centre(
        slug=slug, name=name, name_ar=name_ar, sectors=sectors, regions=[], categories=[],
        working_hours={}, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(centre)
    session.flush()
    return centre


def member(
    session: Session, clock: FrozenClock, world: World, centre: Centre, email: str, name: str
) -> User:
    user = accounts.create_user(
        session, SYSTEM, email=email, name=name, role=Role.ANALYST, organisation=world.cert,
        password=PASSWORD, clock=clock, centre=centre,
    )  # fmt: skip
    session.flush()
    return user


def centre_scene(
    session: Session, clock: FrozenClock, world: World, *, per_centre: int = 2
) -> CentreScene:
    health = make_centre(
        session, clock, "health", "Centre de veille santé", "مركز اليقظة للصحة", ["health"]
    )
    finance = make_centre(
        session, clock, "finance", "Centre de veille finances", "مركز اليقظة للمالية", ["finance"]
    )
    finances = world.org(
        slug="min-finances",
        name="Ministère de l'Économie et des Finances",
        name_ar="وزارة الاقتصاد والمالية",
        sector="finance",
    )
    scene = CentreScene(
        national=national_centre(session),
        health=health,
        finance=finance,
        finances=finances,
        health_analyst=member(
            session, clock, world, health, "sante.analyste@macert.gov.ma", "Salma Santé"
        ),
        finance_analyst=member(
            session, clock, world, finance, "finances.analyste@macert.gov.ma", "Fouad Finances"
        ),
    )
    for n in range(per_centre):
        scene.health_incidents.append(
            report(session, clock, world.sante, title=f"Hôpital : rançongiciel {n}")
        )
        scene.finance_incidents.append(
            report(session, clock, finances, title=f"Trésorerie : hameçonnage {n}")
        )
        scene.national_incidents.append(
            report(session, clock, world.interieur, title=f"Préfecture : défiguration {n}")
        )
    assert {i.centre_id for i in scene.health_incidents} == {health.id}
    assert {i.centre_id for i in scene.finance_incidents} == {finance.id}
    assert {i.centre_id for i in scene.national_incidents} == {scene.national.id}
    return scene
