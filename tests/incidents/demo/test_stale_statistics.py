"""SQLite: the cost of a bulk load and of API intake stays flat whatever the planner's statistics
say — in particular the ones ``db.refresh_statistics`` takes when the scheduler starts on a
nearly empty database, which then describe a table of a dozen rows that has since grown a
thousand-fold (a CERT importing its history on the first day, ``cert demo --incidents``).

Cost is measured without a clock (the suite shares a small machine): SQLite's progress handler
counts the virtual-machine instructions each statement runs, and ``EXPLAIN QUERY PLAN`` says how
each statement reaches its rows. SQLite only: PostgreSQL's autovacuum keeps its own statistics.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.clock import FrozenClock
from core.identity.authz import Actor
from incidents.demo.synthetic import generate_incidents
from incidents.settings import IntakeSettings
from tests.dbs import TestDatabase, create_database
from tests.kit.api import PHISHING, URL, bearer, committed_reporters
from tests.kit.config import SUITE_SETTINGS

GRANULE = 100  # instructions per progress-handler call
HISTORY = 20_000  # incidents bulk-loaded after the statistics were taken
FLAT = 1.5  # the last thousand may cost at most this much more than the first


class Cost:
    """VM instructions (in granules of ``GRANULE``) run by each statement on ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self.steps = 0
        self.by_statement: list[tuple[str, Any, int]] = []
        self._started = 0
        event.listen(engine, "connect", self._count)
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        engine.dispose()  # new connections get the handler

    def _count(self, dbapi_connection: Any, _record: Any) -> None:
        def tick() -> int:
            self.steps += 1
            return 0  # go on

        dbapi_connection.set_progress_handler(tick, GRANULE)

    def _before(self, _conn: Any, _cursor: Any, *_args: Any) -> None:
        self._started = self.steps

    def _after(
        self, _conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, many: bool
    ) -> None:
        self.by_statement.append((statement, None if many else params, self.steps - self._started))

    def reset(self) -> None:
        self.steps = 0
        self.by_statement.clear()


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[TestDatabase]:
    db = create_database("sqlite", tmp_path)
    yield db
    db.drop()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


def api_client(db: TestDatabase, tmp_path: Path, clock: FrozenClock) -> tuple[FlaskClient, str]:
    factory = sessionmaker(bind=db.engine, expire_on_commit=False)
    [secret] = committed_reporters(factory, clock)
    config = {
        "testing": True,
        **SUITE_SETTINGS,
        "instance_dir": tmp_path / "instance",
        "upload_dir": tmp_path / "uploads",
        "database_url": db.url,
        "secret_key": "test-secret-key-" + "x" * 32,
        "mail_from": "Vigie <cert@example.test>",
        "api_write_rate_limit": "10000 per minute",
    }
    return create_app(config, session_factory=factory, clock=clock).test_client(), secret


_numbers = itertools.count(1)


def report(client: FlaskClient, secret: str) -> None:
    """One API submission with six indicators of its own (no duplicate of an earlier one)."""
    n = next(_numbers)
    site = f"webmail-{n}[.]ma"
    body = {
        **PHISHING,
        "title": f"Hameçonnage ciblant la messagerie ({n})",
        "description": (
            f"Courriel de support[@]{site} menant à hxxps://{site}/login.php ; connexions "
            f"depuis 185.220.{n // 250}[.]{n % 250 + 1}. Pièce jointe SHA-256 {n:064x}."
        ),
        "observables": [{"type": "ipv4", "value": f"45.95.{n // 250}.{n % 250 + 1}"}],
        "source_ref": f"SIEM-{n}",
    }
    response = client.post(URL, json=body, headers=bearer(secret, **{"Idempotency-Key": f"k{n}"}))
    assert response.status_code == 201, response.get_data(as_text=True)


def read_back(client: FlaskClient, secret: str) -> str:
    """What a reporter's system does next: its latest incidents; the newest reference."""
    page = client.get(f"{URL}?limit=50", headers=bearer(secret))
    assert page.status_code == 200
    reference: str = page.get_json()["items"][0]["reference"]
    return reference


def analyse_nearly_empty(db: TestDatabase, clock: FrozenClock) -> None:
    """A dozen incidents, then ``ANALYZE`` — what the statistics job did at scheduler start."""
    with Session(db.engine) as session:
        bulk_load(session, clock, 12)
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
        assert conn.scalar(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'incidents'"))


def bulk_load(session: Session, clock: FrozenClock, count: int) -> None:
    """As ``cert demo --incidents`` does, 1,000 rows a batch."""
    settings = IntakeSettings()
    actor = Actor.system("cli:demo")
    generate_incidents(session, actor, count, clock=clock, settings=settings, batch_size=1000)
    session.commit()


def per_intake(cost: Cost, client: FlaskClient, secret: str, count: int = 10) -> float:
    """Instructions per report and its detail page. The statements of the list page between
    them are recorded too (for their plans) but not counted: its total of the organisation's
    incidents grows with them, whatever the plan."""
    cost.reset()
    steps = 0
    for _ in range(count):
        started = cost.steps
        report(client, secret)
        steps += cost.steps - started
        reference = read_back(client, secret)
        started = cost.steps
        assert client.get(f"{URL}/{reference}", headers=bearer(secret)).status_code == 200
        steps += cost.steps - started
    return steps / count


def grown_tables(db: TestDatabase, factor: int = 10) -> set[str]:
    """Tables holding ``factor`` times more rows than ``sqlite_stat1`` says: stale statistics."""
    with db.engine.connect() as conn:  # (not counted: the caller copied what it measured)
        analysed = {row.tbl: row.stat for row in conn.execute(text("SELECT * FROM sqlite_stat1"))}
        grown = set()
        for table, stat in analysed.items():
            rows = conn.scalar(text(f'SELECT count(*) FROM "{table}"'))  # noqa: S608 - its name
            if rows > factor * int(stat.split()[0]):
                grown.add(table)
        return grown


def full_scans(db: TestDatabase, statements: list[tuple[str, Any, int]]) -> list[str]:
    """Statements whose plan reads the whole of a table that has outgrown its statistics
    (``SCAN t`` rather than ``SEARCH t USING …``)."""
    grown = grown_tables(db)
    assert {"incidents", "incident_observables"} <= grown
    found = []
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for statement, params, _steps in statements:
            if params is None or not statement.lstrip().upper().startswith("SELECT"):
                continue
            for row in raw.execute("EXPLAIN QUERY PLAN " + statement, params):
                step = row[3]
                name = step.split()[1] if step.startswith("SCAN ") else ""
                if name in grown or name.rpartition("_")[0] in grown:  # incidents_1: an alias
                    found.append(f"{step}: {statement[:200]}")
    return found


def test_bulk_load_and_api_intake_cost_stays_flat_on_stale_statistics(
    sqlite: TestDatabase, tmp_path: Path, clock: FrozenClock
) -> None:
    client, secret = api_client(sqlite, tmp_path, clock)
    analyse_nearly_empty(sqlite, clock)
    cost = Cost(sqlite.engine)
    first_intake = per_intake(cost, client, secret)

    cost.reset()
    with Session(sqlite.engine) as session:
        bulk_load(session, clock, HISTORY)
    inserts = ("INSERT INTO incidents ", "INSERT INTO incident_observables ")
    batches = [steps for sql, _, steps in cost.by_statement if sql.startswith(inserts)]
    assert len(batches) == 2 * HISTORY // 1000  # incidents, then their observables, per batch
    first_thousand, last_thousand = sum(batches[:2]), sum(batches[-2:])
    assert last_thousand <= FLAT * first_thousand, (first_thousand, last_thousand)

    last_intake = per_intake(cost, client, secret)
    assert full_scans(sqlite, list(cost.by_statement)) == []
    assert last_intake <= FLAT * first_intake, (first_intake, last_intake)
