"""Demo incidents (through submit_incident) and bulk synthetic incidents (``cert demo
--incidents N``) on both backends."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from cert.cli import CliContext, cli
from cert.cli.demo import DEMO_USERS, seed_accounts
from core.audit import AuditEntry
from core.clock import FrozenClock
from core.errors import ValidationFailed
from core.identity.authz import Actor
from core.identity.models import User
from core.outbox import OutboxMessage
from incidents.demo.reports import demo_reports, seed_demo_incidents
from incidents.demo.synthetic import generate_incidents
from incidents.intake.references import REFERENCE_RE
from incidents.intake.schemas import IncidentSubmission
from incidents.intake.service import submit_incident
from incidents.models import Incident, IncidentObservable, IncidentStatus
from incidents.observables.extraction import canonicalise
from incidents.rules.priority import priority_for
from incidents.rules.taxonomy import validate_classification
from incidents.settings import IntakeSettings
from tests.dbs import TestDatabase
from tests.kit.factories import make_org, make_user

importlib.import_module("cert.cli.demo")  # registers ``cert demo``
SETTINGS = IntakeSettings(base_url="https://cert.example.ma", mail_domain="cert.example.ma")
SYSTEM = Actor.system("test")
DEFANGED = re.compile(r"\[\.\]|\[@\]|\[at\]|hxxp")


def test_demo_reports_are_french_classified_and_defanged() -> None:
    reports = demo_reports()
    assert len(reports) >= 12
    assert len({r.source_ref for r in reports}) == len(reports)
    assert {r.organisation for r in reports} == {
        "min-interieur",
        "min-finances",
        "min-sante",
        "min-education",
        "min-justice",
        "anrt",
        "cnss",
    }
    assert len({r.submission["category"] for r in reports}) >= 8
    assert [r.days_ago for r in reports] == sorted((r.days_ago for r in reports), reverse=True)
    reporters = {email for email, _n, role, _s, _l in DEMO_USERS if role == "reporter"}
    for report in reports:
        data = IncidentSubmission.model_validate(report.submission)
        validate_classification(data.category, data.type)
        assert DEFANGED.search(data.description), report.source_ref
        assert report.reporter is None or report.reporter in reporters


def test_demo_incidents_are_real_submissions_and_idempotent(
    db_session: Session, clock: FrozenClock
) -> None:
    seed_accounts(db_session, SYSTEM, clock, {})
    summary = seed_demo_incidents(db_session, SYSTEM, clock, settings=SETTINGS)
    count = len(demo_reports())
    assert summary == f"demo incidents: {count} reported, 0 already present"
    incidents = db_session.scalars(select(Incident).order_by(Incident.id)).all()
    assert [i.source_ref for i in incidents] == [r.source_ref for r in demo_reports()]
    assert [i.reference for i in incidents] == sorted(i.reference for i in incidents)
    assert [i.received_at for i in incidents] == sorted(i.received_at for i in incidents)
    assert all(i.received_at <= clock.now() for i in incidents)
    users = {u.id: u for u in db_session.scalars(select(User))}
    for incident in incidents:
        reporter = users[incident.reporter_id] if incident.reporter_id else None
        assert reporter is not None
        if reporter.role == "reporter":
            assert reporter.organisation_id == incident.organisation_id
        else:  # a ministry without a demo reporter: taken by the coordinator by telephone
            assert reporter.email == "coordinateur@macert.gov.ma"
        assert incident.observables, incident.source_ref
    assert {i.priority for i in incidents} >= {"P1", "P2", "P4"}
    assert len({i.tlp for i in incidents}) >= 4 and any(i.significant for i in incidents)
    mails = db_session.scalar(select(func.count()).select_from(OutboxMessage))
    assert mails == count  # an acknowledgement each (reporter, or the contact given)
    again = seed_demo_incidents(db_session, SYSTEM, clock, settings=SETTINGS)
    assert again == f"demo incidents: 0 reported, {count} already present"


def test_demo_incidents_skip_missing_organisations(db_session: Session, clock: FrozenClock) -> None:
    make_org(db_session, clock, slug="cnss")
    summary = seed_demo_incidents(db_session, SYSTEM, clock, settings=SETTINGS)
    cnss = sum(r.organisation == "cnss" for r in demo_reports())
    assert summary.startswith(f"demo incidents: {cnss} reported, 0 already present, ")
    assert summary.endswith(f"{len(demo_reports()) - cnss} skipped (organisation missing)")


# --------------------------------------------------------------------------- bulk


def _numbers_by_year(session: Session) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    for reference in session.scalars(select(Incident.reference)):
        match = REFERENCE_RE.match(reference)
        assert match, reference
        found[int(match["year"])].append(int(match["seq"]))
    return found


def test_bulk_incidents_are_valid_and_gap_free(db_session: Session, clock: FrozenClock) -> None:
    org = make_org(db_session, clock, slug="min-justice")
    make_org(db_session, clock, slug="anrt")
    reporter = Actor.for_user(make_user(db_session, clock, org=org))
    first = IncidentSubmission(title="Incident réel", description="x", category="other")
    before = submit_incident(db_session, reporter, first, clock=clock, settings=SETTINGS)
    assert before.reference.endswith("2026-000001")

    result = generate_incidents(db_session, SYSTEM, 500, clock=clock, settings=SETTINGS, seed=7)
    assert (result.incidents, result.observables) == (500, 1000)
    numbers = _numbers_by_year(db_session)
    assert set(numbers) == {2024, 2025, 2026}
    for year, seq in numbers.items():
        assert sorted(seq) == list(range(1, len(seq) + 1)), year  # gap-free, after the existing
    assert result.references[2026][0] == "MACERT-2026-000002"

    rows = db_session.scalars(select(Incident).where(Incident.id != before.id)).all()
    oldest = clock.now() - dt.timedelta(days=731)
    for incident in rows:
        validate_classification(incident.category, incident.type)
        assert incident.priority == priority_for(incident.impact, incident.urgency)
        assert IncidentStatus(incident.status) and oldest <= incident.received_at <= clock.now()
        assert incident.ack_due_at > incident.received_at
        assert len(incident.observables) == 2
        for observable in incident.observables:
            assert canonicalise(observable.type, observable.value) == observable.value
            assert observable.tlp == incident.tlp
    assert len({i.status for i in rows}) >= 5 and len({i.category for i in rows}) >= 8
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action.like("%bulk%"))).one()
    assert entry.after is not None and entry.after["count"] == 500

    generate_incidents(db_session, SYSTEM, 500, clock=clock, settings=SETTINGS, seed=7)
    numbers = _numbers_by_year(db_session)
    assert sum(len(seq) for seq in numbers.values()) == 1001
    for seq in numbers.values():
        assert sorted(seq) == list(range(1, len(seq) + 1))
    after = submit_incident(db_session, reporter, first, clock=clock, settings=SETTINGS)
    assert after.reference == f"MACERT-2026-{len(numbers[2026]) + 1:06d}"
    total = db_session.scalar(select(func.count()).select_from(IncidentObservable))
    assert total == 2000 + len(after.observables) + len(before.observables)


@pytest.mark.parametrize("count", [0, -3])
def test_bulk_needs_a_positive_count(db_session: Session, clock: FrozenClock, count: int) -> None:
    make_org(db_session, clock)
    with pytest.raises(ValidationFailed):
        generate_incidents(db_session, SYSTEM, count, clock=clock, settings=SETTINGS)


def test_cli_demo_with_bulk_incidents(fresh_database: TestDatabase, tmp_path: Path) -> None:
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
        "CERT_REFERENCE_PREFIX": "TESTCERT",
    }

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args), env=env, obj=CliContext())
        assert result.exit_code == 0, result.output
        return result.output

    output = run("demo", "--incidents", "300")
    assert f"demo incidents: {len(demo_reports())} reported" in output
    assert re.search(r"generated 300 synthetic incident\(s\) and 600 observable\(s\) in ", output)
    assert "planner statistics refreshed (ANALYZE)" in output
    if fresh_database.engine.dialect.name == "sqlite":  # ANALYZE wrote the planner's statistics
        with fresh_database.engine.connect() as conn:
            stats = set(conn.scalars(text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'incidents'")))
        assert "ix_incidents_status_received" in stats
    output = run("demo", "--incidents", "200", "--seed", "9")
    assert "demo incidents: 0 reported" in output and "generated 200 synthetic" in output
    with Session(fresh_database.engine) as session:
        total = session.scalar(select(func.count()).select_from(Incident))
        assert total == 500 + len(demo_reports())
        numbers = _numbers_by_year(session)
        assert all(sorted(s) == list(range(1, len(s) + 1)) for s in numbers.values())
        assert all(r.startswith("TESTCERT-") for r in session.scalars(select(Incident.reference)))
    refused = CliRunner().invoke(cli, ["demo", "--incidents", "0"], env=env, obj=CliContext())
    assert refused.exit_code == 2 and "--incidents" in refused.output
