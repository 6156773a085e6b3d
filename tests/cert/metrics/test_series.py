"""The series /metrics gives, with the values of seeded rows; labels that never leak a
reference or an address; the database down: still 200, ``vigie_database_up 0``."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from cert import schema
from cert.app import create_app
from cert.scheduler.leader import leader_lock
from core.clock import FrozenClock
from core.config import load_config
from tests.cert.metrics.kit import ADDRESS, REFERENCE, TOKEN, parse, samples, scrape, seed, value
from tests.kit.scheduler import closed_port
from tests.kit.world import World


def test_every_series_with_the_seeded_values(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    metrics_settings: dict[str, Any],
) -> None:
    seed(db_session, clock)
    db_session.commit()
    lock = leader_lock(load_config(metrics_settings))
    assert lock.try_acquire()
    try:
        families = scrape(client)
    finally:
        lock.release()

    assert value(families, "vigie_database_up") == 1
    assert value(families, "vigie_outbox_messages", status="pending") == 2
    assert value(families, "vigie_outbox_messages", status="failed") == 1
    assert value(families, "vigie_outbox_messages", status="sending") == 0
    assert value(families, "vigie_outbox_retrying_messages") == 1
    assert value(families, "vigie_outbox_oldest_pending_age_seconds") == 30 * 60
    assert value(families, "vigie_event_deliveries", status="failed") == 1
    assert value(families, "vigie_event_deliveries", status="pending") == 1
    assert value(families, "vigie_event_oldest_pending_age_seconds") == 2 * 3600
    assert value(families, "vigie_events_undispatched") == 0
    assert value(families, "vigie_job_runs", job="mail.drain_outbox", status="success") == 1
    assert value(families, "vigie_job_runs", job="mail.drain_outbox", status="failed") == 1
    finished = clock.now().timestamp() - 600 + 2
    last = value(families, "vigie_job_last_success_timestamp_seconds", job="mail.drain_outbox")
    assert last == finished
    assert value(families, "vigie_scheduler_last_job_run_timestamp_seconds") == (
        clock.now().timestamp() - 600
    )
    assert value(families, "vigie_feed_runs", status="failed", trigger="schedule") == 1
    assert value(families, "vigie_feed_runs", status="succeeded", trigger="schedule") == 0
    assert value(families, "vigie_feeds", last_status="failed") == 1
    assert value(families, "vigie_playbook_runs", status="waiting") == 1
    assert value(families, "vigie_playbook_runs", status="failed") == 0
    assert value(families, "vigie_scheduler_leader") == 1
    (holder,) = samples(families, "vigie_scheduler_leader_info")
    assert holder["runner"] == f"{socket.gethostname()}:{os.getpid()}"  # this process holds it
    head = str(schema.head_revision())
    assert value(families, "vigie_build_info", version="0.1.0", revision=head) == 1
    assert value(families, "vigie_database_schema_info", revision=head) == 1


def test_no_leader(client: FlaskClient) -> None:
    families = scrape(client)
    assert value(families, "vigie_scheduler_leader") == 0
    assert samples(families, "vigie_scheduler_leader_info") == []


def test_latency_under_the_route_template_and_no_label_leaks(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    seed(db_session, clock)
    headers = world.headers(world.analyst)
    db_session.commit()
    page = client.get(f"/incidents/{REFERENCE}").status_code
    api = client.get(f"/api/v1/incidents/{REFERENCE}", headers=headers).status_code
    client.get(f"/nothing/{ADDRESS}/{REFERENCE}")
    client.open(f"/incidents/{REFERENCE}", method="BREW")
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
        as_text=True
    )
    families = parse(text)

    template = "/incidents/<reference>"
    page_labels = {"route": template, "method": "GET", "status": f"{page // 100}xx"}
    assert value(families, "vigie_http_request_duration_seconds_count", **page_labels) == 1
    assert value(families, "vigie_http_requests_total", **page_labels) == 1
    api_labels = {"route": "/api/v1" + template, "method": "GET", "status": f"{api // 100}xx"}
    assert value(families, "vigie_http_requests_total", **api_labels) == 1
    unmatched = {"route": "unmatched", "method": "GET", "status": "4xx"}
    assert value(families, "vigie_http_requests_total", **unmatched) == 1
    brewed = [s for s in samples(families, "vigie_http_requests_total") if s["method"] == "other"]
    assert len(brewed) == 1 and brewed[0]["status"] == "4xx"  # BREW: 405, or 404 unmatched

    labels = [v for family in families.values() for s in family.samples for v in s.labels.values()]
    assert template in labels
    assert not [v for v in labels if "MACERT" in v or "@" in v or "ministere" in v]
    assert REFERENCE not in text and ADDRESS not in text and "Contain" not in text


def test_database_down_still_answers(
    metrics_settings: dict[str, Any], clock: FrozenClock, tmp_path: Path
) -> None:
    url = f"postgresql+psycopg://vigie@127.0.0.1:{closed_port()}/vigie"
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    app = create_app(
        {**metrics_settings, "database_url": url},
        session_factory=sessionmaker(bind=engine),
        clock=clock,
    )
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    families = parse(response.get_data(as_text=True))
    assert value(families, "vigie_database_up") == 0
    assert "vigie_outbox_messages" not in families and "vigie_job_runs" not in families
    build = {"version": "0.1.0", "revision": str(schema.head_revision())}
    assert value(families, "vigie_build_info", **build) == 1
