"""``cert demo``: idempotent, realistic demo data for a Moroccan government CERT.

Organisations and users are created when absent and left alone when present. Demo passwords are
generated on first creation, kept in ``instance/demo-credentials.json`` (mode 0600) and printed on
every run, so that a fresh ``make run`` always shows working logins. Each slice adds its own demo
records through its manifest (:class:`core.slices.Demo`: the incidents slice's demo reports);
``--incidents N`` asks each slice for N synthetic records in bulk (the incidents slice: N
incidents) for load and benchmark work, then refreshes the planner's statistics.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy import text
from sqlalchemy.orm import Session

from cert.cli import CliContext, cli, fail_on_domain_error, pass_ctx
from cert.cli.demo_centres import CENTRE_OF, CentresSeeded, ensure_centres, staff_centres
from cert.slices_list import SLICES
from core.auth import organisations as orgs
from core.auth import services as accounts
from core.auth.centres import list_centres
from core.auth.passwords import password_problem
from core.clock import Clock
from core.config import Config
from core.errors import NotFound
from core.identity.authz import Actor
from core.identity.centres import NATIONAL_SLUG
from core.identity.models import AssetKind, Organisation
from core.slices import Slice


@dataclass(frozen=True)
class DemoOrg:
    slug: str
    name: str
    name_ar: str
    kind: str
    sector: str
    domain: str
    ip_range: str
    region: str = "rabat-sale-kenitra"


DEMO_ORGS = (
    DemoOrg(
        "macert",
        "Centre Marocain d'Alerte et de Gestion des Incidents Informatiques (maCERT)",
        "المركز المغربي لليقظة والرصد والتصدي للهجمات المعلوماتية",
        "cert",
        "government",
        "macert.gov.ma",
        "192.0.2.0/28",
    ),
    DemoOrg(
        "min-interieur",
        "Ministère de l'Intérieur",
        "وزارة الداخلية",
        "ministry",
        "government",
        "interieur.gov.ma",
        "198.51.100.0/26",
    ),
    DemoOrg(
        "min-finances",
        "Ministère de l'Économie et des Finances",
        "وزارة الاقتصاد والمالية",
        "ministry",
        "finance",
        "finances.gov.ma",
        "198.51.100.64/26",
    ),
    DemoOrg(
        "min-sante",
        "Ministère de la Santé et de la Protection sociale",
        "وزارة الصحة والحماية الاجتماعية",
        "ministry",
        "health",
        "sante.gov.ma",
        "198.51.100.128/26",
    ),
    DemoOrg(
        "min-education",
        "Ministère de l'Éducation nationale, du Préscolaire et des Sports",
        "وزارة التربية الوطنية والتعليم الأولي والرياضة",
        "ministry",
        "education",
        "men.gov.ma",
        "198.51.100.192/26",
    ),
    DemoOrg(
        "min-justice",
        "Ministère de la Justice",
        "وزارة العدل",
        "ministry",
        "justice",
        "justice.gov.ma",
        "203.0.113.0/27",
    ),
    DemoOrg(
        "anrt",
        "Agence Nationale de Réglementation des Télécommunications",
        "الوكالة الوطنية لتقنين المواصلات",
        "agency",
        "telecommunications",
        "anrt.ma",
        "203.0.113.32/27",
    ),
    DemoOrg(
        "cnss",
        "Caisse Nationale de Sécurité Sociale",
        "الصندوق الوطني للضمان الاجتماعي",
        "establishment",
        "social-security",
        "cnss.ma",
        "203.0.113.64/27",
        "casablanca-settat",
    ),
)

# (e-mail, name, role, organisation slug, locale)
DEMO_USERS = (
    ("admin@macert.gov.ma", "Nadia Benali", "admin", "macert", "fr"),
    ("coordinateur@macert.gov.ma", "Youssef El Amrani", "lead", "macert", "fr"),
    ("analyste@macert.gov.ma", "Salma Idrissi", "analyst", "macert", "fr"),
    ("analyste2@macert.gov.ma", "Karim Tazi", "analyst", "macert", "en"),
    # the health and finance vigilance centres (cert.cli.demo_centres)
    ("chef.sante@macert.gov.ma", "Meryem Sqalli", "lead", "macert", "fr"),
    ("analyste.sante@macert.gov.ma", "Rachid Bennani", "analyst", "macert", "ar"),
    ("analyste2.sante@macert.gov.ma", "Sara Lahlou", "analyst", "macert", "fr"),
    ("chef.finances@macert.gov.ma", "Adil Benkirane", "lead", "macert", "fr"),
    ("analyste.finances@macert.gov.ma", "Zineb Kettani", "analyst", "macert", "fr"),
    ("rssi@interieur.gov.ma", "Hicham Ouazzani", "reporter", "min-interieur", "fr"),
    ("rssi@finances.gov.ma", "Leila Berrada", "reporter", "min-finances", "fr"),
    ("rssi@sante.gov.ma", "Omar Chraibi", "reporter", "min-sante", "ar"),
    ("dsi@cnss.ma", "Imane Alaoui", "reporter", "cnss", "fr"),
)


def _credentials(path: Path) -> dict[str, str]:
    try:
        loaded: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return loaded
    except FileNotFoundError:
        return {}


def _save_credentials(path: Path, creds: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(creds, handle, indent=2)


def _ensure_org(session: Session, actor: Actor, spec: DemoOrg, clock: Clock) -> Organisation:
    try:
        found = orgs.get_organisation_by_slug(session, spec.slug)
    except NotFound:
        pass
    else:
        if found.region is None:  # demo data from before the vigilance centres
            found.region = spec.region
        return found
    org = orgs.create_organisation(
        session,
        actor,
        slug=spec.slug,
        name=spec.name,
        name_ar=spec.name_ar,
        kind=spec.kind,
        sector=spec.sector,
        contact_emails=[f"securite@{spec.domain}"],
        clock=clock,
    )
    org.region = spec.region
    orgs.add_asset(session, actor, org, kind=AssetKind.DOMAIN, value=spec.domain, clock=clock)
    orgs.add_asset(session, actor, org, kind=AssetKind.IP_RANGE, value=spec.ip_range, clock=clock)
    return org


def _demo_password(creds: dict[str, str], email: str, name: str) -> str:
    """The kept password of ``email`` while it passes the password policy, else a new random one
    (which passes it, barring a random run of the user's name)."""
    kept = creds.get(email)
    if kept and not password_problem(kept, email=email, name=name):
        return kept
    password = ""
    while not password or password_problem(password, email=email, name=name):
        password = f"Demo-{secrets.token_urlsafe(12)}"
    creds[email] = password
    return password


def seed_accounts(
    session: Session,
    actor: Actor,
    clock: Clock,
    creds: dict[str, str],
    centres_seeded: CentresSeeded | None = None,
) -> int:
    """Create missing demo organisations, vigilance centres and users, the staff in their
    centres with the coming week's rota (:mod:`cert.cli.demo_centres`); returns how many users
    were created."""
    by_slug = {spec.slug: _ensure_org(session, actor, spec, clock) for spec in DEMO_ORGS}
    seeded = centres_seeded or CentresSeeded()
    centres = ensure_centres(session, actor, clock, seeded)
    created: set[str] = set()
    for email, name, role, slug, locale in DEMO_USERS:
        if accounts.find_user(session, email) is not None:
            continue
        password = _demo_password(creds, email, name)
        accounts.create_user(
            session,
            actor,
            email=email,
            name=name,
            role=role,
            organisation=by_slug[slug],
            password=password,
            locale=locale,
            clock=clock,
            centre=centres.get(CENTRE_OF.get(email, NATIONAL_SLUG)),
        )
        created.add(email)
    staff_centres(session, actor, clock, centres, seeded, frozenset(created))
    return len(created)


def seed_slices(
    session: Session, actor: Actor, clock: Clock, config: Config, slices: Iterable[Slice]
) -> list[str]:
    """Each slice's demo records (after the organisations and users); one summary line each."""
    return [
        slice_.demo.seed(session, actor, clock, config)
        for slice_ in slices
        if slice_.demo is not None and slice_.demo.seed is not None
    ]


def _bulk(ctx: CliContext, actor: Actor, count: int, seed: int, slices: Iterable[Slice]) -> None:
    for slice_ in slices:
        if slice_.demo is None or slice_.demo.bulk is None:
            continue
        with ctx.unit_of_work() as uow:
            lines = slice_.demo.bulk(uow.session, actor, ctx.clock, ctx.config, count, seed)
        for line in lines:
            click.echo(line)
    with ctx.unit_of_work() as uow:  # the planner must know the new volume
        uow.session.execute(text("ANALYZE"))
    click.echo("planner statistics refreshed (ANALYZE)")


@cli.command("demo")
@click.option(
    "--incidents",
    "bulk",
    type=click.IntRange(min=1),
    default=None,
    help="Also bulk-generate this many synthetic incidents (load and benchmark work).",
)
@click.option("--seed", type=int, default=2026, show_default=True, help="Seed of --incidents.")
@pass_ctx
@fail_on_domain_error
def demo(ctx: CliContext, bulk: int | None, seed: int) -> None:
    """Create realistic demo data if absent (idempotent) and print the demo logins."""
    path = ctx.config.instance_dir / "demo-credentials.json"
    creds = _credentials(path)
    actor = Actor.system("cli:demo")
    seeded = CentresSeeded()
    with ctx.unit_of_work() as uow:
        created = seed_accounts(uow.session, actor, ctx.clock, creds, seeded)
        centres = len(list_centres(uow.session))
        summaries = seed_slices(uow.session, actor, ctx.clock, ctx.config, SLICES)
    _save_credentials(path, creds)
    click.echo(f"demo data ready ({created} user(s) created)")
    for line in [*summaries, seeded.summary(centres)]:
        click.echo(f"  {line}")
    if bulk is not None:
        _bulk(ctx, actor, bulk, seed, SLICES)
    click.echo(f"demo logins (also in {path}):")
    for email, _name, role, slug, _locale in DEMO_USERS:
        password = creds.get(email, "(created before; password not known to this instance)")
        centre = f", centre {CENTRE_OF[email]}" if email in CENTRE_OF else ""
        click.echo(f"  {role:9} {email:32} {password}   [{slug}{centre}]")
