"""The e-mails of a publication, end to end on both databases with a real SMTP server (aiosmtpd):
the TLP refuses a publication whose lists reach anyone it does not allow (naming them; nothing
published, nothing queued), and an allowed one arrives at exactly its recipients, with the TLP
label in subject and body, in each recipient's language, with one delivery row each."""

from __future__ import annotations

import time
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from bulletins.authoring import services as svc
from bulletins.distribution.deliveries import delivery_page
from bulletins.distribution.sending import publish_and_send
from bulletins.models import Bulletin, BulletinDelivery, BulletinStatus, ListKind
from core.clock import FrozenClock
from core.errors import ValidationFailed
from core.mail_sender import drain_outbox
from core.outbox import OutboxMessage
from tests.bulletins.lists import make_list
from tests.bulletins.test_authoring import SETTINGS, draft, people
from tests.kit.outbox import MAIL_FROM, mailer_for
from tests.kit.smtp import SmtpServer, smtp_server
from tests.kit.world import World


def approved(session: Session, clock: FrozenClock, world: World, **changes: Any) -> Bulletin:
    author, lead, _ = people(world)
    bulletin = svc.create_draft(session, author, draft(**changes), clock=clock)
    svc.submit(session, author, bulletin, clock=clock)
    return svc.approve(session, lead, bulletin, clock=clock)


@pytest.fixture
def ministries(db_session: Session, clock: FrozenClock, world: World) -> World:
    """Interior and Health with their security contacts, and the lists of the tests."""
    world.interieur.contact_emails = ["soc@interieur.gov.ma", "cert@interieur.gov.ma"]
    world.sante.contact_emails = ["soc@sante.gov.ma"]
    make_list(db_session, clock, "all", ListKind.ALL)
    make_list(db_session, clock, "interieur", ListKind.ORGANISATION,
              organisation_id=world.interieur.id,
              members=[{"email": "dsi@interieur.gov.ma", "language": "ar"}])  # fmt: skip
    make_list(db_session, clock, "vip", ListKind.NAMED, members=[
        {"email": "expert@example.org", "name": "Expert", "language": "en"},
        {"email": "wali@interieur.gov.ma", "name": "Wali", "language": "ar",
         "organisation_id": world.interieur.id}])  # fmt: skip
    return world


def received(
    session: Session, factory: sessionmaker[Session], smtp: SmtpServer, clock: FrozenClock
) -> dict[str, EmailMessage]:
    session.flush()
    counts = drain_outbox(factory, mailer_for(smtp), clock=clock, mail_from=MAIL_FROM)
    assert counts["failed"] == 0
    session.expire_all()
    return {
        address: envelope.message
        for envelope in smtp.handler.received
        for address in envelope.rcpt_tos
    }


def body(message: EmailMessage, kind: str = "plain") -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def outbox_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def test_amber_to_every_administration_is_refused_naming_the_others(
    db_session: Session, clock: FrozenClock, ministries: World
) -> None:
    _, lead, _ = people(ministries)
    bulletin = approved(db_session, clock, ministries, tlp="amber", lists=["all"],
                        organisations=[ministries.interieur.slug])  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        publish_and_send(db_session, lead, bulletin, clock=clock, settings=SETTINGS)
    assert "soc@sante.gov.ma" in refused.value.fields["recipients"]
    assert "soc@interieur.gov.ma" not in refused.value.fields["recipients"]
    assert "TLP:AMBER" in str(refused.value)
    db_session.refresh(bulletin)
    assert bulletin.status == BulletinStatus.APPROVED and bulletin.reference is None
    assert outbox_count(db_session) == 0
    assert db_session.scalar(select(func.count()).select_from(BulletinDelivery)) == 0


def test_amber_to_the_interior_list_reaches_exactly_its_contacts_and_extra_addresses(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    ministries: World,
    smtp: SmtpServer,
) -> None:
    _, lead, _ = people(ministries)
    bulletin = approved(db_session, clock, ministries, tlp="amber", lists=["interieur"],
                        organisations=[ministries.interieur.slug])  # fmt: skip
    sent = publish_and_send(db_session, lead, bulletin, clock=clock, settings=SETTINGS)
    assert sent.queued == 3 and bulletin.status == BulletinStatus.PUBLISHED
    mails = received(db_session, session_factory, smtp, clock)
    assert set(mails) == {"soc@interieur.gov.ma", "cert@interieur.gov.ma", "dsi@interieur.gov.ma"}
    reference = bulletin.reference
    assert reference == "MACERT-AVI-2026-0001"
    for message in mails.values():
        assert str(message["Subject"]).startswith(f"[TLP:AMBER] {reference} — ")
        assert body(message).splitlines()[0].startswith("TLP:AMBER")
        assert message["X-TLP"] == "TLP:AMBER"
        assert "Se désabonner" not in body(message) and "unsubscribe" not in body(message)
    french, arabic = mails["soc@interieur.gov.ma"], mails["dsi@interieur.gov.ma"]
    assert str(french["Subject"]) == f"[TLP:AMBER] {reference} — Vulnérabilité dans FortiOS"
    assert "Niveau de Risque" in body(french) and "Critique" in body(french)
    assert str(arabic["Subject"]) == f"[TLP:AMBER] {reference} — ثغرة في FortiOS"
    assert 'dir="rtl"' in body(arabic, "html") and arabic["Content-Language"] == "ar"
    assert f"/bulletins/{bulletin.id}" in body(french)
    page = delivery_page(db_session, bulletin.id, limit=10, offset=0)
    assert page.total == 3
    assert {(d.email, d.status, d.attempts) for d in page.rows} == {
        ("soc@interieur.gov.ma", "sent", 1), ("cert@interieur.gov.ma", "sent", 1),
        ("dsi@interieur.gov.ma", "sent", 1)}  # fmt: skip
    dsi = next(d for d in page.rows if d.email == "dsi@interieur.gov.ma")
    assert dsi.language == "ar" and dsi.organisation == ministries.interieur.name
    assert dsi.list_slug == "interieur" and dsi.sent_at is not None
    row = db_session.scalar(
        select(OutboxMessage).where(OutboxMessage.to_addr == "dsi@interieur.gov.ma")
    )
    assert row is not None and (row.related_type, row.related_id) == ("bulletin", reference)


def test_red_reaches_only_named_people_and_never_an_organisation_list(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    ministries: World,
    smtp: SmtpServer,
) -> None:
    _, lead, _ = people(ministries)
    wrong = approved(db_session, clock, ministries, tlp="red", lists=["interieur"],
                     organisations=[ministries.interieur.slug])  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        publish_and_send(db_session, lead, wrong, clock=clock, settings=SETTINGS)
    assert "soc@interieur.gov.ma" in refused.value.fields["recipients"]
    assert "named individuals" in refused.value.fields["recipients"]
    red = approved(db_session, clock, ministries, tlp="red", lists=["vip"])
    publish_and_send(db_session, lead, red, clock=clock, settings=SETTINGS)
    mails = received(db_session, session_factory, smtp, clock)
    assert set(mails) == {"expert@example.org", "wali@interieur.gov.ma"}
    assert all(str(m["Subject"]).startswith("[TLP:RED] ") for m in mails.values())
    english = body(mails["expert@example.org"])
    assert english.splitlines()[0].startswith("TLP:RED") and "Risk level" in english
    assert "ثغرة في FortiOS" in body(mails["wali@interieur.gov.ma"])


def test_green_refuses_an_address_outside_the_constituency(
    db_session: Session, clock: FrozenClock, ministries: World
) -> None:
    _, lead, _ = people(ministries)
    bulletin = approved(db_session, clock, ministries, tlp="green", lists=["vip", "all"])
    with pytest.raises(ValidationFailed) as refused:
        publish_and_send(db_session, lead, bulletin, clock=clock, settings=SETTINGS)
    named = refused.value.fields["recipients"]
    assert "expert@example.org" in named and "constituency" in named
    assert "wali@interieur.gov.ma" not in named and "soc@sante.gov.ma" not in named
    assert outbox_count(db_session) == 0 and bulletin.status == BulletinStatus.APPROVED


def test_a_revision_goes_again_to_its_lists_with_the_change(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    ministries: World,
    smtp: SmtpServer,
) -> None:
    author, lead, _ = people(ministries)
    bulletin = approved(db_session, clock, ministries, tlp="clear", lists=["vip"])
    publish_and_send(db_session, lead, bulletin, clock=clock, settings=SETTINGS)
    svc.revise(db_session, author, bulletin, clock=clock)
    svc.submit(db_session, author, bulletin, clock=clock)
    svc.approve(db_session, lead, bulletin, clock=clock)
    publish_and_send(db_session, lead, bulletin, clock=clock, settings=SETTINGS,
                     change="Correctif 7.0.15 disponible")  # fmt: skip
    received(db_session, session_factory, smtp, clock)
    subjects = sorted(str(e.message["Subject"]) for e in smtp.handler.received)
    assert len(subjects) == 4
    assert f"[TLP:CLEAR] {bulletin.reference} — Update: Vulnérabilité dans FortiOS" in subjects
    assert f"[TLP:CLEAR] {bulletin.reference} — تحديث: ثغرة في FortiOS" in subjects
    english = [e.message for e in smtp.handler.received
               if e.rcpt_tos == ["expert@example.org"]]  # fmt: skip
    assert any("Correctif 7.0.15 disponible" in body(m) for m in english)
    assert "/advisories/MACERT-AVI-2026-0001" in body(english[0])
    rows = db_session.scalars(select(BulletinDelivery.revision).order_by(BulletinDelivery.id))
    assert list(rows) == [1, 1, 2, 2]


def test_a_thousand_recipients_queue_in_a_few_statements(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    _, lead, _ = people(world)
    members = [{"email": f"agent{i:04d}@example.org", "name": f"Agent {i}",
                "language": ("fr", "ar", "en")[i % 3]} for i in range(1000)]  # fmt: skip
    make_list(db_session, clock, "mille", ListKind.NAMED, members=members)
    bulletin = approved(db_session, clock, world, tlp="red", lists=["mille"])
    db_session.expire_all()
    statements: list[str] = []
    connection = db_session.connection()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(connection, "before_cursor_execute", listener)
    try:
        started = time.perf_counter()
        sent = publish_and_send(db_session, lead, bulletin, clock=clock, settings=SETTINGS)
        elapsed = time.perf_counter() - started
    finally:
        event.remove(connection, "before_cursor_execute", listener)
    assert sent.queued == 1000 and outbox_count(db_session) == 1000
    assert elapsed < 5, elapsed
    assert len(statements) < 60, len(statements)  # no statement per recipient
    languages = db_session.execute(
        select(OutboxMessage.language, func.count()).group_by(OutboxMessage.language)
    )
    assert dict(languages.all()) == {"fr": 334, "ar": 333, "en": 333}
    assert db_session.scalar(select(func.count()).select_from(BulletinDelivery)) == 1000


def test_a_refused_mailbox_shows_as_failed_with_its_error(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    ministries: World,
) -> None:
    _, lead, _ = people(ministries)
    bulletin = approved(db_session, clock, ministries, tlp="red", lists=["vip"])
    publish_and_send(db_session, lead, bulletin, clock=clock, settings=SETTINGS)
    db_session.flush()
    with smtp_server(refuse=["expert@example.org"]) as server:
        drain_outbox(session_factory, mailer_for(server), clock=clock, mail_from=MAIL_FROM)
        assert [e.rcpt_tos for e in server.handler.received] == [["wali@interieur.gov.ma"]]
    db_session.expire_all()
    page = delivery_page(db_session, bulletin.id, limit=1, offset=0)
    assert page.total == 2 and len(page.rows) == 1  # paginated
    assert page.counts == {"failed": 1, "sent": 1}
    rows = delivery_page(db_session, bulletin.id, limit=10, offset=0).rows
    failed = next(d for d in rows if d.email == "expert@example.org")
    assert failed.status == "failed" and "550" in (failed.last_error or "")
    assert failed.sent_at is None and failed.attempts == 1
