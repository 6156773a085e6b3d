"""``cert centres …`` (and ``cert users create --centre``, ``cert orgs set-region``) against a
real database, both backends: what they write, what they print, one-line errors with exit
status 1 (refused by the rules) or 2 (bad usage), nothing written on error."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cert.cli import COMMAND_MODULES, cli
from core.audit import AuditEntry
from core.identity.centres import Centre, CentreMember, DutyShift
from core.identity.models import Organisation, User
from tests.dbs import TestDatabase

for _name in COMMAND_MODULES:
    importlib.import_module(f"cert.cli.{_name}")

PASSWORD = "a long enough password\n"


@pytest.fixture
def invoke(fresh_database: TestDatabase, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
    }

    def run(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)

    return run


@pytest.fixture
def staff(invoke) -> None:  # type: ignore[no-untyped-def]
    """The CERT, a health ministry, an analyst and a reporter."""
    for args in (
        ("--slug", "macert", "--name", "maCERT", "--kind", "cert"),
        ("--slug", "min-sante", "--name", "Santé", "--sector", "health", "--region", "rabat"),
    ):
        assert invoke("orgs", "create", *args).exit_code == 0
    for email, role, org in (
        ("salma@cert.ma", "analyst", "macert"),
        ("r@sante.ma", "reporter", "min-sante"),
    ):
        result = invoke(
            "users", "create", "--email", email, "--name", "X", "--role", role, "--org", org,
            "--password-stdin", stdin=PASSWORD,
        )  # fmt: skip
        assert result.exit_code == 0, result.output


def _count(db: TestDatabase, model: type) -> int:
    with Session(db.engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_centre_its_members_and_rota(invoke, staff, fresh_database: TestDatabase) -> None:  # type: ignore[no-untyped-def]
    result = invoke(
        "centres", "create", "--slug", "sante", "--name", "Centre santé", "--name-ar", "مركز الصحة",
        "--sector", "health", "--organisation", "min-sante", "--category", "fraud",
        "--contact", "soc@sante.ma", "--timezone", "Europe/Paris", "--days", "0,1,2",
        "--hours", "09:00-17:00",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith("created centre sante (id ")
    assert (
        invoke("centres", "add-member", "--centre", "sante", "--email", "salma@cert.ma").exit_code
        == 0
    )
    listed = invoke("centres", "list").output
    assert "national" in listed and "every constituent" in listed
    assert "organisations: min-sante; sectors: health; classes: fraud" in listed
    assert "1 member(s); on duty now: nobody" in listed
    duty = invoke("centres", "duty", "--centre", "sante", "--email", "salma@cert.ma", "--on")
    assert duty.output.strip() == "salma@cert.ma is on duty for sante"
    assert "on duty now: salma@cert.ma" in invoke("centres", "list").output
    # a shift tomorrow 08:00–16:00, Paris time
    tomorrow = (dt.datetime.now(ZoneInfo("Europe/Paris")) + dt.timedelta(days=1)).date()
    added = invoke(
        "centres", "rota", "add", "--centre", "sante", "--email", "salma@cert.ma",
        "--from", f"{tomorrow} 08:00", "--to", f"{tomorrow} 16:00", "--note", "jour",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert f"from {tomorrow} 08:00 to {tomorrow} 16:00 (Europe/Paris)" in added.output
    with Session(fresh_database.engine) as session:
        shift = session.scalars(select(DutyShift)).one()
        local = dt.datetime.combine(tomorrow, dt.time(8), ZoneInfo("Europe/Paris"))
        assert shift.starts_at == local.astimezone(dt.UTC)
    rota = invoke("centres", "rota", "list", "--centre", "sante", "--days", "3").output
    assert f"{tomorrow} 08:00 → {tomorrow} 16:00  salma@cert.ma  jour" in rota
    shown = invoke("centres", "show", "--slug", "sante").output
    assert (
        "standing duty" in shown
        and f"{tomorrow} 08:00" in shown
        and "days 0,1,2 09:00-17:00" in shown
    )
    assert invoke("centres", "rota", "remove", "--id", str(shift.id)).exit_code == 0
    assert _count(fresh_database, DutyShift) == 0
    updated = invoke("centres", "update", "--slug", "sante", "--sector", "", "--contact", "")
    assert updated.output.strip() == "changed centre sante"
    with Session(fresh_database.engine) as session:
        centre = session.scalars(select(Centre).where(Centre.slug == "sante")).one()
        assert (centre.sectors, centre.contact_email, centre.categories) == ([], None, ["fraud"])
    assert invoke("centres", "update", "--slug", "sante").output.strip() == "nothing to change"
    removed = invoke("centres", "remove-member", "--centre", "sante", "--email", "salma@cert.ma")
    assert removed.exit_code == 0 and "left sante" in removed.output
    audit = invoke("audit", "--object-type", "centre").output
    for action in (
        "centre.create", "centre.member_add", "centre.duty", "centre.shift_add",
        "centre.shift_remove", "centre.update", "centre.member_remove",
    ):  # fmt: skip
        assert f" {action} " in audit


def test_errors_are_one_line_and_write_nothing(invoke, staff, fresh_database: TestDatabase) -> None:  # type: ignore[no-untyped-def]
    centres, entries = _count(fresh_database, Centre), _count(fresh_database, AuditEntry)
    bad = invoke(
        "centres", "create", "--slug", "X", "--name", "X", "--category", "astrology",
        "--organisation", "nowhere", "--timezone", "Mars/Base",
    )  # fmt: skip
    assert bad.exit_code == 1
    [line] = bad.output.strip().splitlines()
    assert line.startswith("Error: invalid centre (")
    for part in (
        "slug: lower-case", "categories: not an RSIT class: astrology",
        "organisations: no organisation nowhere", "timezone: not a time zone",
    ):  # fmt: skip
        assert part in line
    assert (_count(fresh_database, Centre), _count(fresh_database, AuditEntry)) == (
        centres,
        entries,
    )
    # bad usage: exit status 2
    assert invoke("centres", "create", "--slug", "x", "--name", "X", "--hours", "9h").exit_code == 2
    assert invoke(
        "centres", "rota", "add", "--centre", "national", "--email", "salma@cert.ma",
        "--from", "tomorrow", "--to", "later",
    ).exit_code == 2  # fmt: skip
    reporter = invoke("centres", "add-member", "--centre", "national", "--email", "r@sante.ma")
    assert reporter.exit_code == 1 and "user: only active analysts" in reporter.output
    twice = invoke("centres", "add-member", "--centre", "national", "--email", "salma@cert.ma")
    assert twice.exit_code == 1 and "already a member" in twice.output
    ghost = invoke("centres", "add-member", "--centre", "nowhere", "--email", "salma@cert.ma")
    assert ghost.exit_code == 1 and "no centre 'nowhere'" in ghost.output
    national = invoke("centres", "update", "--slug", "national", "--sector", "health")
    assert (
        national.exit_code == 1 and "the national centre has every constituent" in national.output
    )
    backwards = invoke(
        "centres", "rota", "add", "--centre", "national", "--email", "salma@cert.ma",
        "--from", "2099-01-02 10:00", "--to", "2099-01-02 09:00",
    )  # fmt: skip
    assert backwards.exit_code == 1 and "ends_at: the end comes after the start" in backwards.output
    assert invoke("centres", "rota", "remove", "--id", "999").exit_code == 1
    assert _count(fresh_database, DutyShift) == 0


def test_users_join_the_centre_given_and_orgs_have_regions(  # type: ignore[no-untyped-def]
    invoke, staff, fresh_database: TestDatabase
) -> None:
    assert invoke("centres", "create", "--slug", "finance", "--name", "Finance").exit_code == 0
    result = invoke(
        "users", "create", "--email", "f@cert.ma", "--name", "F", "--role", "analyst",
        "--org", "macert", "--centre", "finance", "--password-stdin", stdin=PASSWORD,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    refused = invoke(
        "users", "create", "--email", "g@sante.ma", "--name", "G", "--role", "reporter",
        "--org", "min-sante", "--centre", "finance", "--password-stdin", stdin=PASSWORD,
    )  # fmt: skip
    assert refused.exit_code == 2
    with Session(fresh_database.engine) as session:
        query = (
            select(Centre.slug)
            .join(CentreMember, CentreMember.centre_id == Centre.id)
            .join(User, User.id == CentreMember.user_id)
            .where(User.email == "f@cert.ma")
        )
        assert list(session.scalars(query)) == ["finance"]
        assert session.scalar(select(User.id).where(User.email == "g@sante.ma")) is None
    assert "rabat" in invoke("orgs", "list").output
    assert (
        invoke("orgs", "set-region", "--org", "min-sante", "--region", "souss-massa").exit_code == 0
    )
    with Session(fresh_database.engine) as session:
        org = session.scalars(select(Organisation).where(Organisation.slug == "min-sante")).one()
        assert org.region == "souss-massa"


def test_overlaps_are_warned_of_for_the_centre_written(invoke, staff) -> None:  # type: ignore[no-untyped-def]
    def create(slug: str, sector: str) -> Result:
        result = invoke("centres", "create", "--slug", slug, "--name", slug, "--sector", sector)
        assert result.exit_code == 0, result.output
        return result

    assert "warning" not in create("a-health", "health").stderr
    both = "warning: a-health and b-health are equally specific for sector health"
    assert both in create("b-health", "health").stderr
    assert "warning" not in create("c-energy", "energy").stderr  # a and b: not its business
    assert "warning" not in invoke("centres", "update", "--slug", "c-energy", "--name", "C").stderr
    assert both in invoke("centres", "list").stderr
