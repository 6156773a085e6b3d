"""Set-up of ``bench/intake.py``: throw-away databases, the baseline app, the request bodies and
the in-process poster (a Flask test client). Imported by the script, never run on its own."""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from flask.testing import FlaskClient
from sqlalchemy import JSON, DateTime, Engine, Index, String, Text, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from cert import schema
from cert.app import create_app
from core.auth import organisations
from core.auth import services as accounts
from core.auth import tokens as api_tokens
from core.clock import SystemClock
from core.db import make_engine, make_session_factory
from core.identity.authz import Actor
from core.uow import transaction
from incidents.demo.synthetic import generate_incidents
from incidents.settings import IntakeSettings

API_PATH = "/api/v1/incidents"
PER_TOKEN = 50  # POSTs per token: stays under the API's per-token write limit (60 per minute)


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


def create_reporter_tokens(url: str, count: int, history: int = 0) -> list[str]:
    """A ministry, one reporter and ``count`` API tokens (the secrets); ``history`` synthetic
    incidents of that ministry already in the database (spread over the last two years)."""
    engine = make_engine(url)
    clock, admin = SystemClock(), Actor.system("bench")
    try:
        with transaction(make_session_factory(engine)) as session:
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
            if history:
                generate_incidents(session, admin, history, clock=clock, settings=IntakeSettings())
            return [
                api_tokens.create_token(session, admin, user, label=f"bench {i}", clock=clock)[1]
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
