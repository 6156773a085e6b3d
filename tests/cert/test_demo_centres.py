"""``cert demo``'s vigilance centres on both databases: the national centre and two sectoral ones
(health: the health sector and the CNSS by name; finance: the finance sector) with a lead and
analysts, standing duty, a contact address, working hours and the coming week's rota in
Africa/Casablanca; the demo reports routed by the real intake land in each centre; a second run
creates nothing twice, a run a day later adds only the new day's shifts."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bulletins.models import DistributionList, ListKind
from cert.cli import CliContext, cli, load_commands
from cert.cli.demo import DEMO_USERS, seed_accounts
from cert.cli.demo_centres import CENTRE_OF, CentresSeeded, rota_shifts
from core.auth.centres import get_centre_by_slug, leads_of, members_of, on_duty
from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.centres import Centre, CentreMember, DutyShift
from core.identity.models import Organisation
from incidents.demo.reports import seed_demo_incidents
from incidents.models import Incident
from incidents.settings import IntakeSettings
from tests.dbs import TestDatabase

load_commands()
SYSTEM = Actor.system("test")
CASABLANCA = ZoneInfo("Africa/Casablanca")
SETTINGS = IntakeSettings(base_url="https://cert.example.ma", mail_domain="cert.example.ma")


def _counts(session: Session) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        int(session.scalar(select(func.count()).select_from(model)) or 0)
        for model in (Centre, CentreMember, DutyShift)
    )


def test_demo_creates_three_centres_with_staff_and_a_week_of_rota_once(
    db_session: Session, clock: FrozenClock
) -> None:
    clock.set(dt.datetime(2026, 12, 2, 21, 0, tzinfo=dt.UTC))  # a Wednesday, 22:00 in Casablanca
    seeded = CentresSeeded()
    assert seed_accounts(db_session, SYSTEM, clock, {}, seeded) == len(DEMO_USERS)
    assert (seeded.centres, seeded.members, seeded.shifts) == (2, 8, 39)  # none already over
    assert _counts(db_session) == (3, 9, 39)  # the admin is a member of the national centre too
    sante, finances = (get_centre_by_slug(db_session, s) for s in ("sante", "finances"))
    assert (sante.name, sante.name_ar) == ("Centre de veille — Santé", "مركز اليقظة — الصحة")
    assert sante.sectors == ["health"] and finances.sectors == ["finance"]
    assert sante.contact_email == "veille-sante@macert.gov.ma"
    assert sante.timezone == "Africa/Casablanca" and sante.working_hours["start"] == "08:30"
    cnss = db_session.scalar(select(Organisation).where(Organisation.slug == "cnss"))
    assert cnss is not None and [o.organisation_id for o in sante.organisations] == [cnss.id]
    assert cnss.region == "casablanca-settat"
    for centre in (sante, finances):
        people = members_of(db_session, centre)
        assert {m.user.email for m in people} == {e for e, s in CENTRE_OF.items()
                                                  if s == centre.slug}  # fmt: skip
        assert [u.email for u in leads_of(db_session, centre)] == [
            f"chef.{centre.slug}@macert.gov.ma"
        ]
        assert [m.user.email for m in people if m.on_duty] == [
            f"analyste.{centre.slug}@macert.gov.ma"]  # fmt: skip
        # 22:00 local: the out-of-hours shift, with the lead; at 10:00 tomorrow, an analyst
        assert [u.email for u in on_duty(db_session, centre, clock.now())] == [
            f"chef.{centre.slug}@macert.gov.ma"]  # fmt: skip
        morning = dt.datetime(2026, 12, 3, 10, 0, tzinfo=CASABLANCA)
        [analyst] = on_duty(db_session, centre, morning)
        assert analyst.role == "analyst" and analyst.email.endswith(f".{centre.slug}@macert.gov.ma")
    shifts = list(db_session.scalars(select(DutyShift).where(DutyShift.centre_id == sante.id)
                                     .order_by(DutyShift.starts_at)))  # fmt: skip
    assert len(shifts) == 13
    for before, after in zip(shifts, shifts[1:], strict=False):
        assert before.ends_at == after.starts_at  # contiguous, never overlapping
    local = [s.starts_at.astimezone(CASABLANCA) for s in shifts]
    assert local[0] == dt.datetime(2026, 12, 2, 16, 30, tzinfo=CASABLANCA)  # covers tonight
    assert shifts[-1].ends_at.astimezone(CASABLANCA) == dt.datetime(2026, 12, 9, 8, 30,
                                                                    tzinfo=CASABLANCA)  # fmt: skip
    assert {s.note for s in shifts} == {"journée", "astreinte"}
    assert len({s.user_id for s in shifts if s.note == "journée"}) == 2  # the analysts alternate

    again = CentresSeeded()
    assert seed_accounts(db_session, SYSTEM, clock, {}, again) == 0
    assert (again.centres, again.members, again.shifts) == (0, 0, 0)
    assert _counts(db_session) == (3, 9, 39)  # the admin is a member of the national centre too
    clock.advance(days=1)  # a day later: the new day of the coming week only
    later = CentresSeeded()
    seed_accounts(db_session, SYSTEM, clock, {}, later)
    assert (later.centres, later.members, later.shifts) == (0, 0, 6)


def test_demo_reports_land_in_each_centre(db_session: Session, clock: FrozenClock) -> None:
    seed_accounts(db_session, SYSTEM, clock, {})
    seed_demo_incidents(db_session, SYSTEM, clock, settings=SETTINGS)
    rows = db_session.execute(
        select(Centre.slug, Organisation.slug)
        .select_from(Incident)
        .join(Centre, Centre.id == Incident.centre_id)
        .join(Organisation, Organisation.id == Incident.organisation_id)
    ).all()
    by_centre = Counter(centre for centre, _ in rows)
    assert by_centre["sante"] == 4 and by_centre["finances"] == 2 and by_centre["national"] == 6
    assert {org for centre, org in rows if centre == "sante"} == {"min-sante", "cnss"}
    assert {org for centre, org in rows if centre == "finances"} == {"min-finances"}


def test_rota_shifts_follow_the_centre_time_zone() -> None:
    class Person:
        def __init__(self, email: str, role: str) -> None:
            self.email, self.role = email, role

    people = [Person("lead", "lead"), Person("a", "analyst")]
    now = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    shifts = rota_shifts(people, "Africa/Casablanca", now)  # type: ignore[arg-type]
    assert len(shifts) == 15
    first_day = next(s for s in shifts if s[3] == "journée")
    assert first_day[1].astimezone(CASABLANCA).time() == dt.time(8, 30)
    assert first_day[1].tzinfo == dt.UTC and first_day[0].email == "a"
    assert all(s[0].email == "lead" for s in shifts if s[3] == "astreinte")


def test_cert_demo_twice_creates_the_centres_once(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    env = {"CERT_DATABASE_URL": fresh_database.url, "CERT_SECRET_KEY": "s" * 40,
           "CERT_INSTANCE_DIR": str(tmp_path / "instance")}  # fmt: skip

    def run() -> str:
        result = CliRunner().invoke(cli, ["demo"], env=env, obj=CliContext())
        assert result.exit_code == 0, result.output
        return result.output

    first = run()
    assert "  vigilance centres: 2 created, 3 in all; 8 member(s) added" in first
    creds = json.loads((tmp_path / "instance" / "demo-credentials.json").read_text())
    for email in ("chef.sante@macert.gov.ma", "analyste.finances@macert.gov.ma"):
        line = next(line for line in first.splitlines() if f" {email} " in line)
        assert creds[email] in line and f"centre {CENTRE_OF[email]}" in line
    with Session(fresh_database.engine) as session:
        counted = _counts(session)
        lists = session.scalars(
            select(DistributionList).where(DistributionList.kind == ListKind.CENTRE)
        ).all()
        assert [dl.slug for dl in lists] == ["centre-sante"]
        incidents = int(session.scalar(select(func.count()).select_from(Incident)) or 0)
    second = run()
    assert "vigilance centres: 0 created, 3 in all; 0 member(s) added" in second
    with Session(fresh_database.engine) as session:
        assert _counts(session) == counted
        assert session.scalar(select(func.count()).select_from(Incident)) == incidents
        assert session.scalar(select(func.count()).select_from(DistributionList)) == 4
