"""Test helpers: vigilance centres with a constituency, written straight to the database (the
services that manage centres are tested on their own), and a scene of organisations across
sectors and regions for the tests of what a centre's constituency reaches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.clock import Clock
from core.identity.centres import DEFAULT_WORKING_HOURS, Centre, CentreOrganisation
from core.identity.models import Organisation, OrganisationKind
from tests.kit.factories import make_org
from tests.kit.world import World


def make_centre(
    session: Session,
    clock: Clock,
    slug: str,
    *,
    sectors: Iterable[str] = (),
    regions: Iterable[str] = (),
    categories: Iterable[str] = (),
    organisations: Iterable[Organisation] = (),
    name: str | None = None,
    name_ar: str | None = None,
) -> Centre:
    now = clock.now()
    centre = Centre(slug=slug, name=name or f"Centre {slug}", name_ar=name_ar,
                    sectors=list(sectors), regions=list(regions),
                    categories=list(categories), is_national=False,
                    working_hours=dict(DEFAULT_WORKING_HOURS), created_at=now,
                    updated_at=now)  # fmt: skip
    session.add(centre)
    session.flush()
    for organisation in organisations:
        session.add(CentreOrganisation(centre_id=centre.id, organisation_id=organisation.id))
    session.flush()
    return centre


@dataclass
class Constituents:
    """Organisations across sectors and regions, each with one security contact (its slug at
    ``soc@<slug>.ma``), and a health centre and a finance centre over them.

    * health centre ``sante``: the health sector, CNSS by name, the Souss-Massa region;
    * finance centre ``finances``: the finance sector;
    * outside both: the Interior ministry (government, Rabat) and the CERT itself (whose contact
      no list may reach, even when it is of the health sector)."""

    sante: Organisation  # min-sante, health
    chu: Organisation  # chu-casablanca, health, Casablanca
    cnss: Organisation  # social security, named by the health centre
    agadir: Organisation  # a regional agency of Souss-Massa (agriculture)
    finances: Organisation  # min-finances, finance
    douane: Organisation  # the customs, finance
    interieur: Organisation  # government, outside both centres
    cert: Organisation  # the CERT's own organisation
    health: Centre
    finance: Centre

    def contact(self, organisation: Organisation) -> str:
        return f"soc@{organisation.slug}.ma"


def constituents(session: Session, clock: Clock, world: World) -> Constituents:
    def org(slug: str, sector: str | None, region: str | None = None) -> Organisation:
        found = make_org(session, clock, slug=slug, sector=sector)
        found.region = region
        found.contact_emails = [f"soc@{slug}.ma"]
        return found

    sante, interieur, cert = world.sante, world.interieur, world.cert
    for organisation in (sante, interieur, cert):
        organisation.contact_emails = [f"soc@{organisation.slug}.ma"]
    interieur.region = "rabat-sale-kenitra"
    cert.sector = "health"  # a CERT in a centre's sector is still not a constituent
    assert cert.kind == OrganisationKind.CERT
    chu = org("chu-casablanca", "health", "casablanca-settat")
    cnss = org("cnss", "social-security", "casablanca-settat")
    agadir = org("ormva-souss", "agriculture", "souss-massa")
    finances = org("min-finances", "finance", "rabat-sale-kenitra")
    douane = org("douane", "finance")
    health = make_centre(session, clock, "sante", sectors=["health"], regions=["souss-massa"],
                         organisations=[cnss, cert], name="Centre de veille — Santé",
                         name_ar="مركز اليقظة — الصحة")  # fmt: skip
    finance = make_centre(session, clock, "finances", sectors=["finance"],
                          name="Centre de veille — Finances")  # fmt: skip
    session.flush()
    return Constituents(sante, chu, cnss, agadir, finances, douane, interieur, cert, health,
                        finance)  # fmt: skip
