"""cert demo shows intelligence at work: the demo incidents meet the demo feed's indicators
(exact values, a /24 network, a URL's host) — on arrival when the feed is seeded first, by
retro-hunt for demo incidents reported before it — recorded once, on both databases."""

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
from incidents.demo.reports import seed_demo_incidents
from incidents.intel.models import FoundBy, IncidentMatch
from incidents.models import Incident, IncidentEvent
from incidents.settings import IntakeSettings
from tests.dbs import TestDatabase

SYSTEM = Actor.system("test")
SETTINGS = IntakeSettings()


def matched(session: Session) -> dict[str, set[tuple[str, str, str]]]:
    """Demo reference → {(observable value, why, indicator value met)}."""
    found: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for match in session.scalars(select(IncidentMatch)):
        found[match.incident.source_ref or ""].add(
            (match.observable.value, match.why, match.matched)
        )
    return found


def assert_intelligence_shows(session: Session) -> None:
    found = matched(session)
    assert len(found) >= 8  # most demo incidents show intelligence
    assert ("webmail-interieur-gov.ma", "exact", "webmail-interieur-gov.ma") in found["DEMO-001"]
    assert ("80.94.95.81", "network", "80.94.95.0/24") in found["DEMO-005"]
    assert ("https://bourses-men-maroc.com/", "url-host", "bourses-men-maroc.com") in found[
        "DEMO-012"
    ]
    hashed = "e99a18c428cb38d5f260853678922e03"
    assert (hashed, "exact", hashed) in found["DEMO-011"]
    lines = session.scalars(select(IncidentEvent).where(IncidentEvent.kind == "intel_match"))
    assert not any(e.public for e in lines)  # reporters never read intelligence


def test_feed_first_the_demo_incidents_are_matched_on_arrival(
    db_session: Session, clock: FrozenClock
) -> None:
    seed_accounts(db_session, SYSTEM, clock, {})
    feeds_demo.seed(db_session, SYSTEM, clock, Config())
    summary = incidents_demo.seed(db_session, SYSTEM, clock, Config())
    assert_intelligence_shows(db_session)
    matches = db_session.scalars(select(IncidentMatch)).all()
    assert {m.found_by for m in matches} == {FoundBy.ARRIVAL}
    assert summary.endswith(f"; {len(matches)} intelligence match(es) (0 by retro-hunt)")
    again = incidents_demo.seed(db_session, SYSTEM, clock, Config())
    assert again.endswith(f"; {len(matches)} intelligence match(es) (0 by retro-hunt)")


def test_demo_incidents_older_than_the_feed_are_matched_by_retro_hunt_once(
    db_session: Session, clock: FrozenClock
) -> None:
    seed_accounts(db_session, SYSTEM, clock, {})
    seed_demo_incidents(db_session, SYSTEM, clock, settings=SETTINGS)  # an earlier cert demo
    assert db_session.scalars(select(IncidentMatch)).first() is None
    feeds_demo.seed(db_session, SYSTEM, clock, Config())
    new, total = match_demo_incidents(db_session, SYSTEM, clock, settings=SETTINGS)
    assert new == total > 0
    assert_intelligence_shows(db_session)
    matches = db_session.scalars(select(IncidentMatch)).all()
    assert {m.found_by for m in matches} == {FoundBy.RETROHUNT}
    assert match_demo_incidents(db_session, SYSTEM, clock, settings=SETTINGS) == (0, total)


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
    assert feed_line < incidents_line
    with Session(fresh_database.engine) as session:
        total = len(session.scalars(select(IncidentMatch)).all())
        assert total > 0 and session.scalars(select(Incident)).first() is not None
    assert lines[incidents_line].endswith(f"; {total} intelligence match(es) (0 by retro-hunt)")
    second = CliRunner().invoke(cli, ["demo"], env=env, obj=CliContext())
    assert "demo feed demo-intel: already present" in second.output
    assert f"; {total} intelligence match(es) (0 by retro-hunt)" in second.output
