"""A small CERT for the notification tests: the workspace world (two ministries and their
reporters, two analysts, a lead — all of the national centre), an analyst on standing duty
there, and helpers to deliver the domain events through the slice's real handlers and to read
what they wrote."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.config import load_config
from core.events import deliver_events
from core.identity.authz import Actor
from core.identity.models import Role, User
from core.jobs import JobContext
from incidents.notifications import duty
from incidents.notifications.models import Notification, NotificationKind
from incidents.settings import IntakeSettings
from incidents.slice import SLICE
from tests.incidents.notifications.world import World, make_world
from tests.kit.events import slice_settings
from tests.kit.factories import make_user
from tests.kit.outbox import drain, mailer_for
from tests.kit.smtp import Received, SmtpServer

SYSTEM = Actor.system("test")


@dataclass
class Cert:
    w: World
    on_duty: User  # an analyst on the rota

    @property
    def reporter(self) -> User:
        return self.w.reporter

    @property
    def analyst(self) -> User:
        return self.w.analyst

    @property
    def analyst2(self) -> User:
        return self.w.analyst2

    @property
    def lead(self) -> User:
        return self.w.lead


def make_cert(session: Session, clock: FrozenClock, *, login: bool = False) -> Cert:
    w = make_world(session, clock, login=login)
    on_duty = make_user(
        session,
        clock,
        role=Role.ANALYST,
        email="n.alaoui@cert.ma",
        name="Nadia Alaoui",
        password=None,
    )
    lead = Actor.for_user(w.lead)
    duty.set_standing_duty(session, lead, "national", on_duty.id, True, clock=clock)
    session.flush()
    return Cert(w, on_duty)


def deliver(
    factory: sessionmaker[Session],
    clock: FrozenClock,
    settings: Mapping[str, object] | None = None,
) -> dict[str, int]:
    """Run the dispatcher once with the slice's handlers and the slices' settings (default:
    from the test configuration), as ``events.deliver`` does."""
    given = slice_settings() if settings is None else settings
    return deliver_events(factory, SLICE.handlers, clock=clock, settings=given)


def commit_and_deliver(
    session: Session,
    factory: sessionmaker[Session],
    clock: FrozenClock,
    settings: Mapping[str, object] | None = None,
) -> dict[str, int]:
    session.commit()
    counts = deliver(factory, clock, settings)
    session.expire_all()
    return counts


def notifications(session: Session, user: User) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    return list(session.scalars(query))


def kinds(session: Session, user: User) -> list[NotificationKind]:
    return [n.kind for n in notifications(session, user)]


# ------------------------------------------------------------------ the scheduler's jobs
BASE_URL = "https://vigie.macert.gov.ma"
SETTINGS = IntakeSettings(base_url=BASE_URL, mail_domain="macert.gov.ma", digest_hour=8)


def job_context(
    factory: sessionmaker[Session], clock: FrozenClock, settings: IntakeSettings = SETTINGS
) -> JobContext:
    """What the scheduler hands the slice's jobs, on the test's database and clock."""
    session = factory()
    try:
        engine = session.get_bind().engine
    finally:
        session.close()
    return JobContext(
        config=load_config({"secret_key": "k" * 40, "base_url": BASE_URL}, environ={}),
        engine=engine,
        session_factory=factory,
        clock=clock,
        runner="test:1",
        settings={"incidents": settings},
    )


def drain_to(
    server: SmtpServer, factory: sessionmaker[Session], clock: FrozenClock
) -> list[Received]:
    """Send the outbox to ``server``; what it received this time."""
    before = len(server.handler.received)
    drain(factory, mailer_for(server), clock)
    return server.handler.received[before:]


def text_of(received: Received) -> str:
    part = received.message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(received: Received) -> str:
    part = received.message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())
