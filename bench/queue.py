"""List and dashboard latency on 100,000 incidents: ``GET /queue`` pages (with their count),
``GET /api/v1/incidents`` (the same filter language, as an analyst and as a reporter) and the
dashboard.

Builds a throw-away database as ``cert demo --incidents 100000`` does (the demo organisations
and users, then :func:`incidents.demo.synthetic.generate_incidents`, the function that command
calls), on a temporary SQLite file or in a temporary schema of the PostgreSQL database given.
Then, through the real application's test client, signed in as a demo analyst (the API with
bearer tokens of that analyst and of a ministry's reporter), it requests realistic filtered and
sorted pages, each with its total, and the dashboard, and prints the p50/p95 server time of each
next to the raw SQL time of the **same statements** (captured from the request and replayed on
the same database in the same run). Targets: p95 ≤ 150 ms for every list and search, ≤ 100 ms
for the dashboard.

    .venv/bin/python bench/queue.py
    .venv/bin/python bench/queue.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
    .venv/bin/python bench/queue.py --incidents 20000 --repeat 50 --strict
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's ``queue`` module, which psycopg and others
# import: keep its directory out of the import path.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import html  # noqa: E402
import importlib.util  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from contextlib import AbstractContextManager, contextmanager  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402
from typing import Any, cast  # noqa: E402
from urllib.parse import quote  # noqa: E402

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import Engine, event, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.emit import add_option, enable  # noqa: E402
from bench.queue_kept import kept_database, report, vacuum_schema  # noqa: E402
from bench.queue_kept import percentile as percentile  # noqa: E402
from cert.app import create_app  # noqa: E402
from cert.cli.demo import seed_accounts  # noqa: E402
from core.auth.tokens import create_token  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.config import load_config  # noqa: E402
from core.db import make_engine, make_session_factory  # noqa: E402
from core.identity.authz import Actor  # noqa: E402
from core.identity.models import User  # noqa: E402
from core.uow import transaction  # noqa: E402
from incidents.demo.synthetic import generate_incidents  # noqa: E402
from incidents.models import Incident, IncidentObservable  # noqa: E402
from incidents.settings import from_config  # noqa: E402

TARGET_MS = 150.0  # lists and searches (issue 17, at 100,000 incidents)
TARGET_1M_MS = 250.0  # lists and searches at 1,000,000 incidents (issue 24, PostgreSQL)
DASHBOARD_TARGET_MS = 100.0
ANALYST = "analyste@macert.gov.ma"
# the bench signs in with a password alone: the second factor the demo analyst would be asked
# to enrol (CERT_MFA_REQUIRED_ROLES) is a sign-in step, not part of the pages measured
NO_MFA = {"mfa_required_roles": ""}
REPORTER = "rssi@interieur.gov.ma"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_NEXT = re.compile(r'rel="next" href="([^"]+)"')


def bench_database(database_url: str | None) -> AbstractContextManager[str]:
    """The throw-away migrated database of ``bench/intake.py`` (shared, not copied)."""
    spec = importlib.util.spec_from_file_location("vigie_bench_intake", HERE / "intake.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its models resolve their annotations through it
    spec.loader.exec_module(module)
    return cast(AbstractContextManager[str], module.bench_database(database_url))


# --------------------------------------------------------------------------- data
def populate(
    url: str, count: int, seed: int, analyze: bool = True, stale: bool = False
) -> tuple[str, float]:
    """Demo accounts and ``count`` synthetic incidents; the analyst's password and seconds.
    ``stale``: SQLite statistics taken on a dozen incidents before the load, none after (what
    the scheduler's job leaves when it starts on a nearly empty database)."""
    config = load_config({"database_url": url, "secret_key": "bench-" + "k" * 40})
    engine = make_engine(url)
    clock, actor = SystemClock(), Actor.system("cli:demo")
    creds: dict[str, str] = {}
    try:
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            seed_accounts(session, actor, clock, creds)
        if stale:
            with transaction(factory) as session:
                generate_incidents(
                    session, actor, 12, clock=clock, settings=from_config(config), seed=seed
                )
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            analyze = False
        started = time.perf_counter()
        with transaction(factory) as session:
            generate_incidents(
                session, actor, count, clock=clock, settings=from_config(config), seed=seed
            )
        elapsed = time.perf_counter() - started
        if engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load
            vacuum_schema(url)  # its own schema's tables: not every schema of the database
        elif analyze:  # SQLite: what the scheduler's daily db.refresh_statistics job does
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return creds[ANALYST], elapsed


def api_tokens(url: str) -> dict[str, str]:
    """Bearer headers of the analyst and of a ministry's reporter (new API tokens)."""
    engine = make_engine(url)
    headers = {}
    try:
        with transaction(make_session_factory(engine)) as session:
            for who, email in (("analyst", ANALYST), ("reporter", REPORTER)):
                user = session.scalars(select(User).where(User.email == email)).one()
                _token, secret = create_token(
                    session, Actor.system("bench"), user, label="bench", clock=SystemClock()
                )
                headers[who] = f"Bearer {secret}"
    finally:
        engine.dispose()
    return headers


def samples(url: str) -> dict[str, str]:
    """Real values to search and filter on, taken from the generated data."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ip = conn.scalar(
                select(IncidentObservable.value)
                .where(IncidentObservable.type == "ipv4")
                .order_by(IncidentObservable.id.desc())
                .limit(1)
            )
            slug = conn.scalar(text("SELECT slug FROM organisations WHERE slug = 'min-sante'"))
            reference = conn.scalar(select(Incident.reference).order_by(Incident.id).limit(1))
    finally:
        engine.dispose()
    return {"ip": str(ip), "org": str(slug or "min-interieur"), "reference": str(reference)}


def centres_module() -> Any:
    """``bench/queue_centres.py`` (``--centre``, ``--explain``), loaded by path like intake's."""
    spec = importlib.util.spec_from_file_location("vigie_bench_centres", HERE / "queue_centres.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- measuring
@dataclass
class Result:
    name: str
    path: str
    target: float
    app_ms: list[float]
    sql_ms: list[float]
    statements: int
    rows: int


class Recorder:
    """The SQL statements a request sends (to replay them without the application)."""

    def __init__(self) -> None:
        self.on = False
        self.seen: list[tuple[str, Any]] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if self.on:
            self.seen.append((statement, params))

    @contextmanager
    def recording(self) -> Iterator[list[tuple[str, Any]]]:
        self.seen, self.on = [], True
        try:
            yield self.seen
        finally:
            self.on = False


def sign_in(client: FlaskClient, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = _CSRF.search(page)
    assert token, "no login form"
    data = {"csrf_token": token.group(1), "email": ANALYST, "password": password}
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    authorization: str | None = None  # a bearer token (the API); else the analyst's session
    target: float = TARGET_MS


def measure(
    client: FlaskClient, engine: Engine, recorder: Recorder, scenario: Scenario, repeat: int,
    plans: bool = False,
) -> Result:  # fmt: skip
    path = scenario.path
    headers = {"Authorization": scenario.authorization} if scenario.authorization else {}
    for _ in range(3):  # warm caches (templates, statements, pages)
        client.get(path, headers=headers)
    with recorder.recording() as seen:
        response = client.get(path, headers=headers)
    body = response.get_data(as_text=True)
    assert response.status_code == 200, f"{path}: {response.status_code}\n{body[:800]}"
    # every query of the request (session user or token, lists, page, count, observables) and
    # the lists' planner setting (incidents.queue.query._custom_plans)
    statements = [
        (q, p) for q, p in seen if q.lstrip()[:6].upper() in ("SELECT", "SET LO", "WITH R")
    ]
    if plans:
        print(f"{scenario.name}: {path}")
        centres_module().explain(engine, statements)
    app_ms, sql_ms = [], []
    with engine.connect() as conn:  # the replay's own connection, same driver settings
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for _ in range(repeat):  # interleaved: a load spike hits both series alike
            started = time.perf_counter()
            client.get(path, headers=headers)
            app_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            for statement, params in statements:
                cursor.execute(statement, params)
                if cursor.description is not None:
                    cursor.fetchall()
            sql_ms.append((time.perf_counter() - started) * 1000)
        cursor.close()
        conn.rollback()
    if response.is_json:
        answer = response.get_json()
        rows = len(answer["items"]) if "items" in answer else int(answer["count"])
    elif path.startswith("/dashboard"):  # its charts (pages have icons too)
        rows = body.count("<svg")
    else:
        rows = len(re.findall(r'name="incident" value=', body))
    return Result(scenario.name, path, scenario.target, app_ms, sql_ms, len(statements), rows)


def next_page(client: FlaskClient, path: str) -> str:
    found = _NEXT.search(client.get(path).get_data(as_text=True))
    assert found, f"{path}: no next page"
    return html.unescape(found.group(1))


def next_api_page(client: FlaskClient, path: str, authorization: str) -> str:
    response = client.get(path, headers={"Authorization": authorization})
    following = response.get_json()["next"]
    assert following, f"{path}: no next page"
    return str(following)


def scenarios(client: FlaskClient, s: dict[str, str], tokens: dict[str, str]) -> list[Scenario]:
    urgent = "/queue?status=open&priority=P1&priority=P2&sort=sla"
    new = "/queue/new-count"
    day_ago = quote((dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat())
    api, analyst, reporter = "/api/v1/incidents", tokens["analyst"], tokens["reporter"]
    api_urgent = f"{api}?status=open&priority=P1,P2&sort=sla"
    return [
        Scenario("open, newest first (default page)", "/queue?status=open"),
        Scenario("open P1+P2 by SLA due", urgent),
        Scenario("open P1+P2 by SLA due, page 2", next_page(client, urgent)),
        Scenario("all statuses, newest first, page 2", next_page(client, "/queue?sort=-received")),
        Scenario("q = an IP observable", f"/queue?q={s['ip']}"),
        Scenario("q = word 'rançongiciel'", "/queue?q=ran%C3%A7ongiciel"),
        Scenario("q = two words, open only", "/queue?q=force+brute&status=open"),
        Scenario("q = a full reference", f"/queue?q={s['reference']}"),
        Scenario("organisation + status", f"/queue?organisation={s['org']}&status=in_progress"),
        Scenario("assignee = me, open", "/queue?assignee=me&status=open"),
        Scenario("SLA breached by due date", "/queue?sla=breached&sort=sla"),
        Scenario("TLP:RED by priority", "/queue?tlp=red&sort=priority"),
        Scenario("sector + open", "/queue?sector=health&status=open"),
        Scenario("RSIT class by priority", "/queue?category=malicious-code&sort=priority"),
        Scenario("new incidents (open, last day)", f"{new}?status=open&since={day_ago}"),
        Scenario("new incidents (q = word)", f"{new}?q=ran%C3%A7ongiciel&since={day_ago}"),
        Scenario("API: default list (newest first)", api, analyst),
        Scenario("API: open P1+P2 by SLA due", api_urgent, analyst),
        Scenario("API: … its page 2 (cursor)", next_api_page(client, api_urgent, analyst), analyst),
        Scenario("API: q = word 'rançongiciel'", f"{api}?q=ran%C3%A7ongiciel", analyst),
        Scenario("API: q = an IP observable", f"{api}?q={s['ip']}", analyst),
        Scenario(
            "API: organisation + status, offset 100",
            f"{api}?organisation={s['org']}&status=closed&offset=100",
            analyst,
        ),
        Scenario("API: sector + open", f"{api}?sector=health&status=open", analyst),
        Scenario("API: a reporter's list", api, reporter),
        Scenario("API: a reporter's q = word", f"{api}?q=ran%C3%A7ongiciel", reporter),
        Scenario("dashboard, last 30 days (default)", "/dashboard", target=DASHBOARD_TARGET_MS),
        Scenario("dashboard, last 365 days", "/dashboard?period=365", target=DASHBOARD_TARGET_MS),
    ]


# --------------------------------------------------------------------------- main
def database(args: argparse.Namespace) -> AbstractContextManager[tuple[str, str, float | None]]:
    """The URL, the analyst's password and the seconds the data took (``None``: reused)."""

    def fill(url: str) -> tuple[str, float]:
        return populate(url, args.incidents, args.seed, not args.no_analyze, args.stale_statistics)

    if args.schema:
        return kept_database(args.database_url or "", args.schema, args.incidents, fill, ANALYST)
    return _throw_away(args, fill)


@contextmanager
def _throw_away(args: argparse.Namespace, fill: Any) -> Iterator[tuple[str, str, float | None]]:
    with bench_database(args.database_url) as url:
        yield (url, *fill(url))


def run(args: argparse.Namespace) -> int:
    with database(args) as (url, password, seconds), tempfile.TemporaryDirectory() as instance:
        backend = make_url(url).get_backend_name()
        if seconds is None:
            print(f"backend {backend}: schema {args.schema} reused ({args.incidents:,} incidents)")
        else:
            print(f"backend {backend}: {args.incidents:,} incidents generated in {seconds:.1f} s")
        print("samples: " + ", ".join(f"{k} {v}" for k, v in samples(url).items()))
        if args.centre:
            print(centres_module().sectorise(url, ANALYST))
        app: Flask = create_app(
            {"database_url": url, "instance_dir": Path(instance), "secret_key": "b" * 40, **NO_MFA}
        )
        recorder = Recorder()
        event.listen(Engine, "before_cursor_execute", recorder)
        client = app.test_client()
        sign_in(client, password)
        tokens = api_tokens(url)
        engine = make_engine(url)
        target = TARGET_1M_MS if args.incidents >= 1_000_000 else TARGET_MS
        results = [
            measure(client, engine, recorder, scenario, args.repeat, args.explain)
            for scenario in scenarios(client, samples(url), tokens)
            if not args.only or any(word in scenario.name for word in args.only)
        ]
        results = [replace(r, target=target) if r.target == TARGET_MS else r for r in results]
        engine.dispose()
        return report(backend, args, results, target, DASHBOARD_TARGET_MS)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--incidents", type=int, default=100_000, help="default 100,000")
    parser.add_argument("--repeat", type=int, default=30, help="requests per page (default 30)")
    parser.add_argument("--seed", type=int, default=2026, help="generator seed (default 2026)")
    parser.add_argument(
        "--database-url", help="postgresql+psycopg:// URL (a temporary schema is used)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 above a target")
    parser.add_argument(
        "--centre",
        action="store_true",
        help="the analyst in a health vigilance centre only, with 200 incidents shared with it",
    )
    parser.add_argument("--explain", action="store_true", help="print each request's plans")
    parser.add_argument(
        "--stale-statistics",
        action="store_true",
        help="SQLite: statistics taken on 12 incidents before the load, none after (compare)",
    )
    parser.add_argument(
        "--no-analyze", action="store_true", help="SQLite: no ANALYZE after the load (compare)"
    )
    parser.add_argument(
        "--schema",
        help="PostgreSQL: build the data in this schema once and keep it (reused when it holds "
        "--incidents incidents), e.g. bench_1m",
    )
    parser.add_argument(
        "--only", nargs="+", help="only the pages whose name contains one of these words"
    )
    add_option(parser)
    args = parser.parse_args(argv)
    enable(args.json)
    return args


if __name__ == "__main__":
    sys.exit(run(parse_args(None)))
