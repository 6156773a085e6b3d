"""API intake throughput: ``POST /api/v1/incidents`` against a bare Flask + SQLAlchemy baseline.

Both run in the same process, on the same database, with the same JSON bodies, through Flask's
test client (no network, no server: what is measured is the application's own cost):

* **Vigie**: the real application (``create_app``) on a freshly migrated database, a reporter
  with API tokens; each POST is authenticated, rate-limited, validated, classified, prioritised,
  mined for observables, checked for duplicates, audited and acknowledged (outbox row).
* **Baseline**: a bare Flask app whose only route parses the JSON and inserts an equivalent row
  (same columns, roughly) into a similar table with the SQLAlchemy ORM (add + commit), without
  any validation, authentication or side effect.

Rounds alternate between the two; the median rate of each is reported with their ratio
(target: ≥ 0.5). With ``--http`` both are served by gunicorn instead and POSTed to over loopback
HTTP by the same client threads. See ``bench/README.md``.

    .venv/bin/python bench/intake.py --count 500 --rounds 3
    .venv/bin/python bench/intake.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this directory comes first on the import path, where a sibling script would
# shadow a standard module imported later (bench/queue.py hides ``queue``, which thread pools,
# psycopg and gunicorn import): keep it out.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]


import argparse  # noqa: E402
import cProfile  # noqa: E402
import datetime as dt  # noqa: E402
import hashlib  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask, Response, jsonify, request  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import JSON, DateTime, Engine, Index, String, Text, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker  # noqa: E402

from cert import schema  # noqa: E402
from cert.app import create_app  # noqa: E402
from cert.auth import organisations  # noqa: E402
from cert.auth import services as accounts  # noqa: E402
from cert.auth.authz import Actor  # noqa: E402
from cert.clock import SystemClock  # noqa: E402
from cert.db import make_engine, make_session_factory, session_scope  # noqa: E402

API_PATH = "/api/v1/incidents"
TARGET_RATIO = 0.5
PER_TOKEN = 50  # POSTs per token: stays under the API's per-token write limit (60 per minute)
WARM_UP = 20


# --------------------------------------------------------------------------- database


@contextmanager
def bench_database(database_url: str | None) -> Iterator[str]:
    """A migrated throw-away database: a temporary SQLite file, or a temporary schema in the
    PostgreSQL database given (dropped afterwards)."""
    if database_url is None:
        with tempfile.TemporaryDirectory(prefix="vigie-bench-") as directory:
            url = f"sqlite:///{Path(directory) / 'bench.db'}"
            _migrate(url)
            yield url
        return
    if make_url(database_url).get_backend_name() != "postgresql":
        raise SystemExit("--database-url: a postgresql+psycopg:// URL (SQLite is the default)")
    # PostgreSQL-specific: a schema of our own, selected through search_path in the URL.
    name = f"vigie_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        url = (
            make_url(database_url)
            .update_query_dict({"options": f"-csearch_path={name}"})
            .render_as_string(hide_password=False)
        )
        _migrate(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


def analyse(engine: Engine) -> None:
    """PostgreSQL-specific: statistics on the bench schema's tables, as autovacuum keeps them on
    a live database. A table created a moment ago has none, and the planner's defaults for them
    (any ``organisation_id = …`` keeps 0.5 % of the rows) make it answer the duplicate look-up
    by scanning every incident of the organisation, a cost that grows with every POST."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        tables = conn.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).all()
        conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{name}"' for name in tables))


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
    finally:
        engine.dispose()


def create_reporter_tokens(url: str, count: int) -> list[str]:
    """A ministry, one reporter and ``count`` API tokens (the secrets)."""
    engine = make_engine(url)
    clock, admin = SystemClock(), Actor.system("bench")
    try:
        with session_scope(make_session_factory(engine)) as session:
            org = organisations.create_organisation(
                session, admin, slug="min-bench", name="Ministère du Banc d'essai", clock=clock
            )
            user = accounts.create_user(
                session,
                admin,
                email="rssi@bench.gov.ma",
                name="Banc d'essai",
                role="reporter",
                organisation=org,
                password=None,
                clock=clock,
            )
            session.flush()
            return [
                accounts.create_token(session, admin, user, label=f"bench {i}", clock=clock)[1]
                for i in range(count)
            ]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- baseline


class BaselineBase(DeclarativeBase):
    pass


class BaselineIncident(BaselineBase):
    """Roughly the columns an incident report needs, in a table of its own."""

    __tablename__ = "bench_baseline_incidents"
    __table_args__ = (Index("ix_bench_baseline_org_received", "organisation_id", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    organisation_id: Mapped[int]
    category: Mapped[str] = mapped_column(String(64))
    type: Mapped[str | None] = mapped_column(String(64))
    tlp: Mapped[str] = mapped_column(String(20))
    pap: Mapped[str] = mapped_column(String(12))
    impact: Mapped[str] = mapped_column(String(10))
    urgency: Mapped[str] = mapped_column(String(10))
    significant: Mapped[bool]
    status: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str | None] = mapped_column(String(200))
    affected_assets: Mapped[list[str]] = mapped_column(JSON)
    observables: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


def baseline_app(engine: Engine) -> Flask:
    """A bare Flask app: parse the JSON, add one ORM row, commit, answer 201. No validation."""
    BaselineBase.metadata.create_all(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    app = Flask("baseline")

    @app.post("/incidents")
    def create() -> tuple[Response, int]:
        data: dict[str, Any] = request.get_json()
        now = dt.datetime.now(dt.UTC)
        row = BaselineIncident(
            reference=f"BASE-{uuid.uuid4().hex}",
            title=data["title"],
            description=data["description"],
            organisation_id=1,
            category=data["category"],
            type=data.get("type"),
            tlp=data.get("tlp", "TLP:AMBER"),
            pap=data.get("pap", "PAP:AMBER"),
            impact=data.get("impact", "medium"),
            urgency=data.get("urgency", "medium"),
            significant=False,
            status="new",
            source_ref=data.get("source_ref"),
            affected_assets=data.get("affected_assets", []),
            observables=data.get("observables", []),
            received_at=now,
            created_at=now,
            updated_at=now,
        )
        with sessions() as session:
            session.add(row)
            session.commit()
        return jsonify({"id": row.id, "reference": row.reference}), 201

    return app


# --------------------------------------------------------------------------- load


def body(run: str, index: int) -> dict[str, Any]:
    """A realistic submission: French text with defanged indicators, one explicit observable.

    Indicators differ from one POST to the next, so that the duplicate search stays as cheap
    at the 1,000th POST as at the first (a shared indicator makes it grow with every match).
    """
    octet = index % 250 + 1
    digest = hashlib.sha256(f"{run}-{index}".encode()).hexdigest()
    return {
        "title": f"Hameçonnage ciblant la messagerie ({run}-{index})",
        "description": (
            f"Des agents ont reçu un courriel de support[@]webmail-{run}-{index}[.]ma les "
            f"invitant à se connecter sur hxxps://webmail-{run}-{index}[.]ma/login.php ; "
            f"connexions suivies depuis 185.220.{index % 200}[.]{octet}. Pièce jointe "
            f"facture.pdf, SHA-256 {digest}."
        ),
        "category": "fraud",
        "type": "phishing",
        "impact": "high",
        "urgency": "medium",
        "tlp": "TLP:AMBER",
        "affected_assets": ["webmail.bench.gov.ma"],
        "observables": [{"type": "ipv4", "value": f"45.95.{index // 250 % 250}.{octet}"}],
        "source_ref": f"SIEM-{run}-{index}",
    }


class Poster:
    """POSTs bodies through a test client, rotating API tokens under the per-token limit."""

    def __init__(self, client: FlaskClient, path: str, tokens: Sequence[str] = ()) -> None:
        self.client, self.path, self.tokens, self.sent = client, path, tokens, 0

    def post(self, payload: dict[str, Any]) -> None:
        headers = {}
        if self.tokens:
            headers["Authorization"] = f"Bearer {self.tokens[self.sent // PER_TOKEN]}"
        response = self.client.post(self.path, json=payload, headers=headers)
        self.sent += 1
        if response.status_code != 201:
            raise SystemExit(
                f"POST {self.path} answered {response.status_code}: {response.get_data(True)[:500]}"
            )

    def rate(self, run: str, count: int) -> float:
        """Requests per second over ``count`` POSTs."""
        payloads = [body(run, i) for i in range(count)]
        started = time.perf_counter()
        for payload in payloads:
            self.post(payload)
        return count / (time.perf_counter() - started)


# --------------------------------------------------------------------------- over HTTP


SERVE = "VIGIE_BENCH_SERVE"  # set: this script runs as the gunicorn server of one app


def served_app() -> Flask:
    """The app a gunicorn worker serves with ``--http`` (named by the environment)."""
    url = os.environ["VIGIE_BENCH_URL"]
    if os.environ[SERVE] == "vigie":
        return vigie_app(url, Path(os.environ["VIGIE_BENCH_INSTANCE"]))
    return baseline_app(make_engine(url))


def serve() -> None:
    """Run gunicorn (sync workers, as ``cert web``) on the app and address in the environment;
    each worker builds its own app (its own connection pool)."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", os.environ["VIGIE_BENCH_BIND"])
            self.cfg.set("workers", int(os.environ["VIGIE_BENCH_WORKERS"]))
            self.cfg.set("loglevel", "warning")

        def load(self) -> Flask:
            return served_app()

    Server().run()


@contextmanager
def http_server(which: str, url: str, instance: Path, workers: int) -> Iterator[int]:
    """``which`` app served by gunicorn (sync workers, as ``cert web``) on a loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {
        **os.environ,
        SERVE: which,
        "VIGIE_BENCH_URL": url,
        "VIGIE_BENCH_INSTANCE": str(instance),
        "VIGIE_BENCH_BIND": f"127.0.0.1:{port}",
        "VIGIE_BENCH_WORKERS": str(workers),
    }
    server = subprocess.Popen([sys.executable, __file__], env=env)  # noqa: S603 (this script)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the {which} server did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(30)


class HttpPoster(Poster):
    """POSTs over loopback HTTP from ``clients`` threads (one connection per request: gunicorn's
    sync workers close it after each answer)."""

    def __init__(self, port: int, path: str, tokens: Sequence[str], clients: int) -> None:
        self.port, self.path, self.tokens, self.clients, self.sent = port, path, tokens, clients, 0

    def post(self, payload: dict[str, Any]) -> None:
        self._send([(self.sent, json.dumps(payload).encode())])
        self.sent += 1

    def _send(self, items: Sequence[tuple[int, bytes]]) -> None:
        for number, data in items:
            headers = {"Content-Type": "application/json"}
            if self.tokens:
                headers["Authorization"] = f"Bearer {self.tokens[number // PER_TOKEN]}"
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                connection.request("POST", self.path, body=data, headers=headers)
                response = connection.getresponse()
                answer = response.read()
            finally:
                connection.close()
            if response.status != 201:
                raise SystemExit(f"POST {self.path} answered {response.status}: {answer[:500]!r}")

    def rate(self, run: str, count: int) -> float:
        items = [(self.sent + i, json.dumps(body(run, i)).encode()) for i in range(count)]
        self.sent += count
        with ThreadPoolExecutor(self.clients) as pool:
            started = time.perf_counter()
            list(pool.map(self._send, [items[k :: self.clients] for k in range(self.clients)]))
            return count / (time.perf_counter() - started)


def has_intake_route(app: Flask) -> bool:
    return any(
        rule.rule == API_PATH and "POST" in (rule.methods or set())
        for rule in app.url_map.iter_rules()
    )


def vigie_app(url: str, instance_dir: Path) -> Flask:
    return create_app(
        {
            "database_url": url,
            "instance_dir": instance_dir,
            "secret_key": "bench-" + "k" * 40,
            "base_url": "https://cert.bench.example",
            "mail_from": "Vigie <cert@bench.example>",
        }
    )


def run(args: argparse.Namespace) -> int:
    with (
        bench_database(args.database_url) as url,
        tempfile.TemporaryDirectory() as instance,
        ExitStack() as servers,
    ):
        app = vigie_app(url, Path(instance))
        if not has_intake_route(app):
            print(f"SKIPPED: the application has no POST {API_PATH} route yet; run again later.")
            return 0
        posts = WARM_UP + (args.rounds + int(args.profile)) * args.count
        tokens = create_reporter_tokens(url, -(-posts // PER_TOKEN))
        engine = make_engine(url)
        vigie = Poster(app.test_client(), API_PATH, tokens)
        bare = Poster(baseline_app(engine).test_client(), "/incidents")
        if args.http:
            ports = [
                servers.enter_context(http_server(which, url, Path(instance), args.workers))
                for which in ("vigie", "baseline")
            ]
            vigie = HttpPoster(ports[0], API_PATH, tokens, args.clients)
            bare = HttpPoster(ports[1], "/incidents", (), args.clients)
        for i in range(WARM_UP):
            vigie.post(body("warm", i))
            bare.post(body("warm", i))
        analyse(engine)
        vigie_rates, bare_rates = [], []
        for r in range(args.rounds):
            bare_rates.append(bare.rate(f"r{r}", args.count))
            vigie_rates.append(vigie.rate(f"r{r}", args.count))
        if args.profile:
            profile(vigie, args.count)
        engine.dispose()
        return report(make_url(url).get_backend_name(), args, vigie_rates, bare_rates)


def profile(vigie: Poster, count: int) -> None:
    """One more Vigie round under cProfile: where the time of a POST goes (Vigie's code)."""
    profiler = cProfile.Profile()
    profiler.enable()
    vigie.rate("profile", count)
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(r"/(cert|incidents)/", 30)


def report(
    backend: str, args: argparse.Namespace, vigie_rates: list[float], bare_rates: list[float]
) -> int:
    vigie, bare = statistics.median(vigie_rates), statistics.median(bare_rates)
    ratio = vigie / bare
    verdict = "OK" if ratio >= TARGET_RATIO else "BELOW TARGET"
    how = "Flask test client"
    if args.http:
        how = f"HTTP, gunicorn {args.workers} worker(s), {args.clients} client thread(s)"
    print(f"backend {backend}, {how}: {args.rounds} round(s) of {args.count} POSTs (median)")
    print(f"  baseline (bare Flask + SQLAlchemy insert): {bare:8.1f} req/s  {_all(bare_rates)}")
    print(f"  Vigie    POST {API_PATH}:          {vigie:8.1f} req/s  {_all(vigie_rates)}")
    print(f"  ratio {ratio:.2f} (target ≥ {TARGET_RATIO}): {verdict}")
    return 1 if args.strict and ratio < TARGET_RATIO else 0


def _all(rates: list[float]) -> str:
    return "[" + ", ".join(f"{r:.0f}" for r in rates) + "]"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=500, help="POSTs per round (default 500)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL database to run in (a temporary schema is created and dropped); "
        "default: a temporary SQLite file",
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile one more round of Vigie POSTs"
    )
    parser.add_argument(
        "--http",
        action="store_true",
        help="serve both apps with gunicorn and POST over loopback HTTP instead of the test client",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers with --http")
    parser.add_argument("--clients", type=int, default=4, help="client threads with --http")
    parser.add_argument(
        "--strict", action="store_true", help=f"exit 1 when the ratio is below {TARGET_RATIO}"
    )
    args = parser.parse_args(argv)
    if min(args.count, args.rounds, args.workers, args.clients) < 1:
        parser.error("--count, --rounds, --workers and --clients must be at least 1")
    if args.http and args.profile:
        parser.error("--profile measures in-process: not with --http")
    return args


if __name__ == "__main__":
    if SERVE in os.environ:
        serve()
    else:
        sys.exit(run(parse_args(None)))
