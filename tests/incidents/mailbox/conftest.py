"""The mailbox's scene: the world's two ministries with registered contacts, the intake
settings of a CERT whose mailbox is ``cert@cert.example`` behind ``mx.cert.example``, and a unit
of work on the test's session (its transactions are savepoints of the test's)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.outbox import OutboxMessage
from core.uow import UnitOfWork
from incidents.mailbox.models import InboundMail, MailSource
from incidents.mailbox.receiving import Received, receive
from incidents.settings import IntakeSettings, MailSettings
from tests.kit.mail import CERT_ADDRESS, MX
from tests.kit.world import World

CONTACT = "soc@interieur.gov.ma"  # a registered contact of the Interior ministry
OTHER_CONTACT = "soc@sante.gov.ma"  # of the Health ministry
SHARED_CONTACT = "csirt@prestataire.ma"  # a contractor registered by both ministries


def mail_settings(root: Path, **mail: object) -> IntakeSettings:
    return IntakeSettings(
        base_url="https://vigie.cert.example",
        mail_domain="cert.example",
        upload_dir=root / "uploads",
        max_upload_bytes=64 * 1024,
        mail=replace(
            MailSettings(
                mail_dir=root / "uploads" / "mail",
                trusted_authserv_id=MX,
                own_address=CERT_ADDRESS,
            ),
            **mail,  # type: ignore[arg-type]
        ),
    )


@dataclass
class Mailbox:
    world: World
    session: Session
    clock: FrozenClock
    settings: IntakeSettings

    @property
    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session, self.clock)

    def receive(self, raw: bytes, settings: IntakeSettings | None = None) -> Received:
        return receive(self.uow, raw, source=MailSource.PIPE, settings=settings or self.settings)

    def row(self, received: Received) -> InboundMail:
        found = self.session.get(InboundMail, received.mail_id, populate_existing=True)
        assert found is not None
        return found

    def outbox(self) -> list[OutboxMessage]:
        return list(self.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def mailbox(world: World, db_session: Session, clock: FrozenClock, tmp_path: Path) -> Mailbox:
    world.interieur.contact_emails = ["SOC@Interieur.gov.ma", SHARED_CONTACT]
    world.sante.contact_emails = [OTHER_CONTACT, SHARED_CONTACT]
    db_session.flush()
    return Mailbox(world, db_session, clock, mail_settings(tmp_path))


@pytest.fixture(name="mail_settings")
def app_mail_settings(app: Flask) -> IntakeSettings:
    """The intake settings of the test's app (the pages' and the API's tests): where their
    messages must be stored for the app to read them."""
    found: IntakeSettings = app.extensions["incidents"]
    return found
