"""How high could the intake ratio go? Vigie's intake work, stripped to the bone, against the
same baseline as ``bench/intake.py``, in the same run.

The "lean" app is a bare Flask app (no Flask-Login, Babel, CSRF, rate limiter, security headers
or ORM session) whose only route does what a Vigie POST must do, with SQLAlchemy Core on one
connection: the bearer-token look-up, pydantic validation of the same ``IncidentSubmission``,
the RSIT check, priority and SLA, observable extraction, the duplicate look-up, the reference
counter, and INSERTs of the incident, its observables, the timeline event, the audit row and the
outbox row (acknowledgement as a template), then one COMMIT and an orjson answer. It skips what
the real route adds around that work (rate limit, Idempotency-Key, error envelopes, the full
answer), so its ratio is a ceiling for any implementation of the intake on this schema and this
stack, not a target. Run it on an idle machine, as ``bench/intake.py``:

    .venv/bin/python bench/intake_ceiling.py [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent  # see bench/intake.py: keep this directory off the path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import hashlib  # noqa: E402
import statistics  # noqa: E402
from email.utils import make_msgid  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import orjson  # noqa: E402
from flask import Flask, Response, request  # noqa: E402
from sqlalchemy import Engine, bindparam, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.intake_setup import (  # noqa: E402
    Poster,
    analyse,
    baseline_app,
    bench_database,
    body,
    create_reporter_tokens,
)
from core.clock import SystemClock  # noqa: E402
from core.db import make_engine  # noqa: E402
from core.events import Event  # noqa: E402
from core.events.store import record_event  # noqa: E402
from core.identity.authz import Actor  # noqa: E402
from core.identity.centres import constituencies, route  # noqa: E402
from core.identity.models import ApiToken, Organisation, Role, User  # noqa: E402
from feeds.index.benign import warning_lists  # noqa: E402
from feeds.index.lookup import match_observables  # noqa: E402
from incidents import daily  # noqa: E402
from incidents import events as incident_events  # noqa: E402
from incidents.intake.duplicates import (  # noqa: E402
    _SOURCE_REF_LOCK,
    EARLIER_REPORTS,
    indicator_values,
)
from incidents.intake.references import _NEXT, format_reference  # noqa: E402
from incidents.intake.schemas import IncidentSubmission  # noqa: E402
from incidents.models import Incident  # noqa: E402
from incidents.observables.extraction import extract  # noqa: E402
from incidents.rules.priority import DEFAULT_SLA, deadlines, priority_for  # noqa: E402
from incidents.rules.taxonomy import validate_classification  # noqa: E402

TABLES = Incident.metadata.tables
TOKEN = (
    select(User.id, User.email, User.organisation_id, Organisation.sector, Organisation.region)
    .join(ApiToken, ApiToken.user_id == User.id)
    .join(Organisation, Organisation.id == User.organisation_id)
    .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None))
)
INSERT_INCIDENT = insert(TABLES["incidents"]).returning(TABLES["incidents"].c.id)
OBSERVABLES = TABLES["incident_observables"]
INSERT_OBSERVABLES = insert(OBSERVABLES).returning(OBSERVABLES.c.id)
INSERTS = {name: insert(TABLES[name]) for name in TABLES}
ACKNOWLEDGEMENT = "incidents:incidents/email/acknowledgement"
CLOCK = SystemClock()


def lean_app(engine: Engine) -> Flask:
    app = Flask("lean")

    @app.post("/incidents")
    def create() -> Response:
        digest = hashlib.sha256(request.headers["Authorization"][7:].encode()).hexdigest()
        with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn:
            user = conn.execute(TOKEN, {"digest": digest}).one()
            data = IncidentSubmission.model_validate_json(request.get_data())
            with Session(bind=conn) as session:  # for Vigie's functions that take one
                answer = write(conn, session, user, data)
            conn.commit()
        return Response(orjson.dumps(answer), status=201, mimetype="application/json")

    return app


def write(conn: Any, session: Session, user: Any, data: IncidentSubmission) -> dict[str, Any]:
    category, rsit_type = validate_classification(data.category, data.type)
    now = dt.datetime.now(dt.UTC)
    priority = priority_for(data.impact, data.urgency)
    due = deadlines(priority, now, significant=False, aware_at=None, policy=DEFAULT_SLA)
    found: dict[tuple[str, str], list[str]] = {}
    extracted = []
    for where, text in (("title", data.title), ("description", data.description)):
        for observable in extract(text):
            extracted.append(observable)
            found.setdefault((observable.type.value, observable.value), []).append(where)
    for given in data.observables:
        found.setdefault((given.type, given.value), []).append("api")
    since = now - dt.timedelta(days=30)
    if data.source_ref is not None and conn.dialect.name == "postgresql":  # submissions' turns
        key = f"source_ref:{user.organisation_id}:{data.source_ref}"
        conn.execute(_SOURCE_REF_LOCK, {"key": key})
    values = indicator_values(session, extracted)  # the constituency's own values left out
    params = {"organisation_id": user.organisation_id, "source_ref": data.source_ref}
    duplicates = conn.execute(EARLIER_REPORTS, {**params, "since": since, "values": values})
    number = conn.execute(_NEXT, {"year": now.year}).scalar_one()
    reference = format_reference("MACERT", now.year, number)
    incident: dict[str, Any] = {
        column.name: None for column in TABLES["incidents"].columns if column.name != "id"
    }
    incident.update(
        reference=reference, title=data.title, description=data.description,
        organisation_id=user.organisation_id, reporter_id=user.id, reported_at=now,
        received_at=now, affected_assets=list(data.affected_assets), category=category,
        type=rsit_type, tlp=data.tlp, pap=data.pap, impact=data.impact, urgency=data.urgency,
        priority=priority, significant=False, ack_due_at=due.acknowledge_by,
        resolve_due_at=due.resolve_by, status="new", source_ref=data.source_ref,
        possible_duplicates=[reference for _, reference in duplicates], created_at=now,
        updated_at=now, centre_id=route(
            constituencies(session), organisation_id=user.organisation_id, sector=user.sector,
            region=user.region, category=category,
        ),
    )  # fmt: skip
    incident_id = conn.execute(INSERT_INCIDENT, incident).scalar_one()
    zone = daily.zone_of(conn, share=True)  # the dashboard's daily aggregate
    if zone is not None:
        daily.apply(conn, daily.totals([incident], ZoneInfo(zone)))
    rows = [
        {"incident_id": incident_id, "type": kind, "value": value, "sources": sources,
         "tlp": data.tlp, "created_at": now, "warning_lists": warning_lists(kind, value)}
        for (kind, value), sources in found.items()
    ]  # fmt: skip
    observable_ids = list(conn.execute(INSERT_OBSERVABLES, rows).scalars())
    who = {"actor_id": user.id, "actor_label": user.email}
    conn.execute(
        INSERTS["incident_events"],
        {"incident_id": incident_id, "at": now, **who, "kind": "created", "public": True,
         "data": {"priority": priority}},
    )  # fmt: skip
    conn.execute(
        INSERTS["audit_log"],
        {"at": now, **who, "action": "incident.submit", "object_type": "incident",
         "object_id": reference, "before": None, "after": {"priority": priority}, "ip": None},
    )  # fmt: skip
    conn.execute(
        INSERTS["outbox_messages"],
        {"message_id": make_msgid(domain="bench.example"), "to_addr": user.email,
         "subject": None, "text_body": None, "html_body": None, "language": "fr",
         "tlp": data.tlp, "related_type": "incident", "related_id": reference,
         "status": "pending", "attempts": 0, "next_attempt_at": now, "lease_until": None,
         "last_error": None, "created_at": now, "sent_at": None, "template": ACKNOWLEDGEMENT,
         "template_context": {"incident": {"reference": reference}}},
    )  # fmt: skip
    payload = incident_events.Submitted(
        incident_id=incident_id, reference=reference, organisation_id=user.organisation_id,
        priority=priority, tlp=data.tlp, category=category, type=rsit_type,
        observable_ids=observable_ids,
    )  # fmt: skip
    actor = Actor(user.id, user.email, Role.REPORTER, user.organisation_id)
    event = Event.of(
        incident_events.IncidentEventName.SUBMITTED, payload,
        aggregate=(incident_events.AGGREGATE, reference), actor=actor,
    )  # fmt: skip
    record_event(session, event, clock=CLOCK)
    candidates = [(row["type"], row["value"]) for row in rows if not row["warning_lists"]]
    if candidates:  # enrichment: the feeds' index, one statement (nothing to record: no feed)
        match_observables(session, candidates, now=now)
    observables = [{"type": kind, "value": value} for kind, value in found]
    return {"reference": reference, "priority": priority, "observables": observables}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", help="PostgreSQL (a temporary schema); default SQLite")
    parser.add_argument("--count", type=int, default=300, help="POSTs per round (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    args = parser.parse_args()
    with bench_database(args.database_url) as url:
        rounds = args.rounds * args.count + 20
        tokens = create_reporter_tokens(url, -(-rounds // 50), 10_000)
        engine = make_engine(url)
        lean = Poster(lean_app(engine).test_client(), "/incidents", tokens)
        bare = Poster(baseline_app(engine).test_client(), "/incidents")
        for i in range(20):
            lean.post(body("warm", i))
            bare.post(body("warm", i))
        analyse(engine)
        lean_rates, bare_rates = [], []
        for r in range(args.rounds):
            bare_rates.append(bare.rate(f"r{r}", args.count))
            lean_rates.append(lean.rate(f"r{r}", args.count))
        engine.dispose()
    lean_rate, bare_rate = statistics.median(lean_rates), statistics.median(bare_rates)
    print(f"backend {engine.dialect.name}: {args.rounds} round(s) of {args.count} POSTs (median)")
    print(f"  baseline (bare Flask + SQLAlchemy insert): {bare_rate:8.1f} req/s")
    print(f"  lean intake (Vigie's work, Flask + Core):  {lean_rate:8.1f} req/s")
    print(f"  ceiling ratio {lean_rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
