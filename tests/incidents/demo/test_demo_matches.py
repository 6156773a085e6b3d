"""cert demo shows intelligence at work: the demo incidents meet the demo feed's indicators
(exact values, a /24 network, a URL's host), recorded once, on both databases."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from cert.cli import CliContext, cli
from cert.cli.demo import seed_accounts
from core.clock import FrozenClock
from core.config import Config
from core.identity.authz import Actor
from feeds import demo as feeds_demo
from incidents.demo import cli as incidents_demo
from incidents.demo.matches import match_demo_incidents
from incidents.intel.models import FoundBy, IncidentMatch
from incidents.models import Incident, IncidentEvent
from tests.dbs import TestDatabase

SYSTEM = Actor.system("test")


def matched(session: Session) -> dict[str, set[tuple[str, str, str]]]:
    """Demo reference → {(observable value, why, indicator value met)}."""
    found: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for match in session.scalars(select(IncidentMatch)):
        found[match.incident.source_ref or ""].add(
            (match.observable.value, match.why, match.matched)
        )
    return found


def test_the_demo_incidents_meet_the_demo_intelligence_once(
    db_session: Session, clock: FrozenClock
) -> None:
    seed_accounts(db_session, SYSTEM, clock, {})
    feeds_demo.seed(db_session, SYSTEM, clock, Config())
    summary = incidents_demo.seed(db_session, SYSTEM, clock, Config())
    found = matched(db_session)
    total = sum(len(pairs) for pairs in found.values())
    assert summary.endswith(f"; {total} new intelligence match(es)")
    assert len(found) >= 8  # most demo incidents show intelligence
    assert ("webmail-interieur-gov.ma", "exact", "webmail-interieur-gov.ma") in found["DEMO-001"]
    assert ("80.94.95.81", "network", "80.94.95.0/24") in found["DEMO-005"]
    assert ("https://bourses-men-maroc.com/", "url-host", "bourses-men-maroc.com") in found[
        "DEMO-012"
    ]
    assert ("e99a18c428cb38d5f260853678922e03", "exact", "e99a18c428cb38d5f260853678922e03") in (
        found["DEMO-011"]
    )
    matches = db_session.scalars(select(IncidentMatch)).all()
    assert {m.found_by for m in matches} == {FoundBy.RETROHUNT}
    lines = db_session.scalars(select(IncidentEvent).where(IncidentEvent.kind == "intel_match"))
    assert {e.incident_id for e in lines} == {m.incident_id for m in matches}
    assert not any(e.public for e in lines)  # reporters never read intelligence

    assert match_demo_incidents(db_session, SYSTEM, clock) == 0  # idempotent
    again = incidents_demo.seed(db_session, SYSTEM, clock, Config())
    assert again.endswith("; 0 new intelligence match(es)")


def test_cert_demo_seeds_the_feed_before_the_incidents(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
    }
    result = CliRunner().invoke(cli, ["demo"], env=env, obj=CliContext())
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    feed_line = next(i for i, line in enumerate(lines) if "demo feed demo-intel:" in line)
    incidents_line = next(i for i, line in enumerate(lines) if "demo incidents:" in line)
    assert feed_line < incidents_line and "new intelligence match(es)" in lines[incidents_line]
    assert not lines[incidents_line].endswith("; 0 new intelligence match(es)")
    with Session(fresh_database.engine) as session:
        assert session.scalars(select(IncidentMatch)).first() is not None
        assert session.scalars(select(Incident)).first() is not None
    second = CliRunner().invoke(cli, ["demo"], env=env, obj=CliContext())
    assert "demo feed demo-intel: already present" in second.output
    assert "; 0 new intelligence match(es)" in second.output
