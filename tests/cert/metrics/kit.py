"""Helpers of the /metrics tests: scraping and parsing, and the seeded rows each series counts."""

from __future__ import annotations

import datetime as dt
import hashlib

from flask.testing import FlaskClient
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from core.clock import Clock
from core.events.store import DeliveryStatus, DomainEvent, EventDelivery
from core.jobs import JobRun, JobStatus
from core.mail import enqueue_mail
from core.markings import Tlp
from core.outbox import OutboxStatus
from feeds.models import Feed, FeedKind, FeedRun, RunStatus, RunTrigger
from playbooks.models import Phase, Playbook, PlaybookRun
from playbooks.models import RunOrigin as PlaybookOrigin
from playbooks.models import RunStatus as PlaybookStatus

REFERENCE = "MACERT-2026-000042"
ADDRESS = "rssi@ministere.example"
TOKEN = "metrics-token-" + "z" * 30


def parse(text: str) -> dict[str, Metric]:
    """The exposition text as metric families by name (the parser refuses malformed text)."""
    return {family.name: family for family in text_string_to_metric_families(text)}


def scrape(client: FlaskClient, **environ: str) -> dict[str, Metric]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, **environ)
    assert response.status_code == 200, response.status_code
    return parse(response.get_data(as_text=True))


def value(families: dict[str, Metric], name: str, **labels: str) -> float:
    """The value of the one sample named ``name`` with exactly ``labels``."""
    found = [
        sample.value
        for family in families.values()
        for sample in family.samples
        if sample.name == name and sample.labels == labels
    ]
    assert len(found) == 1, (name, labels, found)
    return found[0]


def samples(families: dict[str, Metric], name: str) -> list[dict[str, str]]:
    """The label sets of the samples named ``name``."""
    return [s.labels for f in families.values() for s in f.samples if s.name == name]


def seed(session: Session, clock: Clock) -> None:
    """One of each thing a series counts, with a reference and an address in their rows."""
    now = clock.now()
    enqueue_mail(
        session,
        to=ADDRESS,
        subject=f"Incident {REFERENCE}",
        text="Bonjour",
        clock=clock,
        mail_domain="cert.example",
    )
    failed = enqueue_mail(
        session, to=ADDRESS, subject="Refused", text="-", clock=clock, mail_domain="cert.example"
    )
    failed.status, failed.attempts, failed.last_error = OutboxStatus.FAILED, 8, f"550 {ADDRESS}"
    retried = enqueue_mail(
        session, to=ADDRESS, subject="Later", text="-", clock=clock, mail_domain="cert.example"
    )
    retried.attempts, retried.last_error = 2, "421 try again later"
    retried.created_at = now - dt.timedelta(minutes=30)
    event = DomainEvent(
        name="incident.submitted",
        payload={"reference": REFERENCE},
        aggregate_type="incident",
        aggregate_id=REFERENCE,
        occurred_at=now - dt.timedelta(hours=2),
        actor_label=ADDRESS,
        dispatched_at=now - dt.timedelta(hours=2),
    )
    session.add(event)
    session.flush()
    session.add_all(
        [
            EventDelivery(
                event_id=event.id,
                handler="notifications.mail",
                status=DeliveryStatus.FAILED,
                attempts=8,
                next_attempt_at=now,
                last_error=f"refused {ADDRESS}",
            ),
            EventDelivery(
                event_id=event.id,
                handler="intel.match",
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
            ),
        ]
    )
    started = now - dt.timedelta(minutes=10)
    session.add_all(
        [
            JobRun(
                job_id="mail.drain_outbox",
                scheduled_for=started,
                started_at=started,
                finished_at=started + dt.timedelta(seconds=2),
                status=JobStatus.SUCCESS,
                runner="host-a:101",
            ),
            JobRun(
                job_id="mail.drain_outbox",
                scheduled_for=started - dt.timedelta(minutes=1),
                started_at=started - dt.timedelta(minutes=1),
                finished_at=started,
                status=JobStatus.FAILED,
                error=f"refused {ADDRESS}",
                runner="host-a:101",
            ),
        ]
    )
    feed = Feed(name="abuse-feed", kind=FeedKind.FILE, default_tlp=Tlp.GREEN, created_at=now)
    feed.last_status = RunStatus.FAILED
    session.add(feed)
    session.flush()
    session.add(
        FeedRun(
            feed_id=feed.id,
            trigger=RunTrigger.SCHEDULE,
            status=RunStatus.FAILED,
            started_at=started,
            finished_at=started,
            error=f"unreachable for {REFERENCE}",
        )
    )
    document = '{"type": "playbook"}'
    playbook = Playbook(
        cacao_id="playbook--00000000-0000-4000-8000-000000000042",
        modified=now,
        created=now,
        name=f"Contain {REFERENCE}",
        phase=Phase.AFTER,
        document=document,
        digest=hashlib.sha256(document.encode()).hexdigest(),
        imported_at=now,
    )
    session.add(playbook)
    session.flush()
    session.add(
        PlaybookRun(
            playbook_id=playbook.id,
            origin=PlaybookOrigin.MANUAL,
            dedupe_key=f"manual:{REFERENCE}",
            status=PlaybookStatus.WAITING,
            deadline_at=now + dt.timedelta(days=1),
            started_at=now,
            updated_at=now,
        )
    )
    session.flush()
