"""The request id (core.requestid): accepted or made by the web kit, returned, written on the
domain events and outbox rows of the request, bound again while the events' handlers run (so
the e-mails they queue name the request that caused them), a job's own for scheduled jobs, and
in every JSON log line written meanwhile."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core import logs, requestid
from core.clock import FrozenClock
from core.db import SessionFactory
from core.events import DomainEvent, Event, Handler, deliver_events
from core.jobs import JobRun, run_slot
from core.mail import enqueue_mail
from core.outbox import OutboxMessage
from core.uow import transaction
from incidents.models import Incident
from tests.kit.api import submit
from tests.kit.events import Probe, deliveries, record
from tests.kit.world import World


def test_a_well_formed_id_is_returned_as_given(client: Any) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:42.x_y"})
    assert response.headers["X-Request-ID"] == "lb-7f3a:42.x_y"


@pytest.mark.parametrize(
    "given",
    [None, "", "a b", 'x"},{"level":"ERROR', "é", "x" * 65, "a\tb"],
    ids=["absent", "empty", "space", "json-forgery", "non-ascii", "too-long", "tab"],
)
def test_an_absent_or_unsafe_id_is_replaced_by_a_fresh_one(client: Any, given: str | None) -> None:
    headers = {} if given is None else {"X-Request-ID": given}
    first = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    second = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    assert first != given and len(first) == 32 and int(first, 16) >= 0
    assert second != first  # one per request, never kept from the last one


def test_errors_and_refusals_carry_the_id_too(client: Any) -> None:
    missing = client.get("/no-such-page", headers={"X-Request-ID": "trace-404"})
    assert missing.status_code == 404 and missing.headers["X-Request-ID"] == "trace-404"
    refused = client.post("/api/v1/incidents", json={}, headers={"X-Request-ID": "trace-401"})
    assert refused.status_code == 401 and refused.headers["X-Request-ID"] == "trace-401"


def test_a_submission_writes_its_id_on_its_events_and_outbox_rows(
    client: Any, world: World, db_session: Session
) -> None:
    response = submit(client, world.token(world.reporter), **{"X-Request-ID": "trace-submit-1"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["X-Request-ID"] == "trace-submit-1"
    reference = response.get_json()["reference"]
    incident = db_session.scalars(select(Incident).where(Incident.reference == reference)).one()
    events = db_session.scalars(
        select(DomainEvent).where(DomainEvent.aggregate_id == incident.reference)
    ).all()
    assert events and {e.request_id for e in events} == {"trace-submit-1"}
    mails = db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.related_id == incident.reference)
    ).all()
    assert mails and {m.request_id for m in mails} == {"trace-submit-1"}
    assert requestid.current() is None  # unbound when the request ended


def test_a_handler_runs_with_its_events_id_and_its_mail_carries_it(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    seen: list[str | None] = []

    def mail(session: Session, event: Event) -> None:
        seen.append(requestid.current())
        enqueue_mail(
            session,
            to="soc@cert.gov.ma",
            subject=f"ping {event.id}",
            text="pong",
            related=("probe", event.aggregate_id),
            clock=clock,
            mail_domain="cert.gov.ma",
        )

    handlers = [Handler("mail", {Probe.PINGED}, mail)]
    deliver_events(factory, handlers, clock=clock)  # subscribed from now on
    with requestid.bound("trace-event-1"):
        record(factory, clock, 1)
    record(factory, clock, 2)  # outside any request: no id
    counts = deliver_events(factory, handlers, clock=clock)
    assert counts["delivered"] == 2, (counts, [d.last_error for d in deliveries(factory)])
    assert seen == ["trace-event-1", None]
    with transaction(factory) as session:
        rows = session.execute(
            select(OutboxMessage.related_id, OutboxMessage.request_id).order_by(OutboxMessage.id)
        ).all()
    assert [tuple(row) for row in rows] == [("1", "trace-event-1"), ("2", None)]
    assert requestid.current() is None


def test_a_job_gets_an_id_of_its_own_recorded_with_its_run(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    inside: list[str | None] = []

    def body() -> dict[str, int]:
        inside.append(requestid.current())
        return {"done": 1}

    slot = dt.datetime(2026, 12, 6, 6, 0, tzinfo=dt.UTC)
    run = run_slot(factory, "probe-job", slot, body, clock=clock, runner="test:1")
    assert run is not None and inside[0] is not None and inside[0].startswith("job-")
    with transaction(factory) as session:
        stored = session.scalars(select(JobRun).where(JobRun.job_id == "probe-job")).one()
    assert stored.request_id == inside[0]
    assert requestid.current() is None


def test_json_log_lines_name_the_request(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure("json", "INFO")  # as create_app does outside tests (cert web, cert scheduler)
    app = create_app(settings, session_factory=session_factory, clock=clock)
    app.test_client().get("/healthz", headers={"X-Request-ID": "trace-log-1"})
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    access = [line for line in lines if line["logger"] == "vigie.access"]
    assert access and access[-1]["request_id"] == "trace-log-1"
    assert access[-1]["status"] == 200 and access[-1]["route"] == "/healthz"
    assert access[-1]["method"] == "GET" and access[-1]["duration_ms"] >= 0
    assert access[-1]["time"].endswith("Z") and access[-1]["level"] == "INFO"
