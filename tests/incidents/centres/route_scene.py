"""The vigilance centres of the routing, transfer and share tests, made with the ORM (the
administration's services are another part's): a health centre and a finance centre besides the
national one (migration 0037), each with an analyst who is a member of it only; the world's
``analyst`` and ``lead`` stay members of the national centre (they see every centre's incidents).

* ``sante`` (Centre de veille santé, مركز اليقظة للصحة): sector ``health`` — the world's Health
  ministry (``min-sante``) reports land there;
* ``finance`` (Centre de veille finances): sector ``finance``;
* ``nadia@cert.gov.ma`` (Nadia Santé) of ``sante``, ``omar@cert.gov.ma`` (Omar Finances) of
  ``finance``, both analysts signing in with :data:`tests.kit.factories.PASSWORD`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.auth import services as accounts
from core.clock import Clock
from core.identity.centres import Centre, CentreOrganisation, national_centre
from core.identity.models import Organisation, Role, User
from incidents.models import Incident
from tests.kit.factories import PASSWORD, SYSTEM, report
from tests.kit.world import World


def make_centre(
    session: Session,
    clock: Clock,
    slug: str,
    *,
    name: str | None = None,
    name_ar: str | None = None,
    sectors: Iterable[str] = (),
    regions: Iterable[str] = (),
    categories: Iterable[str] = (),
    organisations: Iterable[Organisation] = (),
) -> Centre:
    now = clock.now()
    centre = Centre(
        slug=slug,
        name=name or f"Centre {slug}",
        name_ar=name_ar,
        is_national=False,
        sectors=list(sectors),
        regions=list(regions),
        categories=list(categories),
        working_hours={},
        created_at=now,
        updated_at=now,
    )
    session.add(centre)
    session.flush()
    for org in organisations:
        session.add(CentreOrganisation(centre_id=centre.id, organisation_id=org.id))
    session.flush()
    return centre


def make_member(
    session: Session, world: World, centre: Centre, email: str, name: str, role: str = Role.ANALYST
) -> User:
    """A CERT user whose only centre is ``centre``."""
    user = accounts.create_user(
        session, SYSTEM, email=email, name=name, role=role, organisation=world.cert,
        password=PASSWORD, clock=world.clock, centre=centre,
    )  # fmt: skip
    session.flush()
    return user


@dataclass
class Centres:
    world: World
    national: Centre
    sante: Centre
    finance: Centre
    nadia: User  # analyst of sante
    omar: User  # analyst of finance

    def health_report(self, **changes: object) -> Incident:
        """A report of the world's Health ministry (sector health): lands in ``sante``."""
        return report(self.world.session, self.world.clock, self.world.other_reporter, **changes)


def build(world: World) -> Centres:
    session, clock = world.session, world.clock
    sante = make_centre(
        session, clock, "sante", name="Centre de veille santé", name_ar="مركز اليقظة للصحة",
        sectors=["health"],
    )  # fmt: skip
    finance = make_centre(
        session, clock, "finance", name="Centre de veille finances", sectors=["finance"]
    )
    return Centres(
        world=world,
        national=national_centre(session),
        sante=sante,
        finance=finance,
        nadia=make_member(session, world, sante, "nadia@cert.gov.ma", "Nadia Santé"),
        omar=make_member(session, world, finance, "omar@cert.gov.ma", "Omar Finances"),
    )
