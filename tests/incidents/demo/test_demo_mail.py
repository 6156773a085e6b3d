"""``cert demo``'s held messages: the samples of ``data/demo_mail`` received through the real
receiving path, each held for the reason it shows (an unknown sender's French report, an
out-of-office reply, a DMARC-failed message in a ministry contact's name, an Arabic report from an
unknown address), inside the command's transaction; seeding again adds nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from incidents.demo.mail_samples import seed_demo_mail
from incidents.mailbox.models import InboundMail, MailStatus
from incidents.settings import IntakeSettings, MailSettings
from tests.kit.world import World


def test_the_demo_mail_is_held_for_its_reasons(
    db_session: Session, clock: FrozenClock, world: World, tmp_path: Path
) -> None:
    assert world.reporter.email == "rssi@interieur.gov.ma"  # the DMARC-failed sample's From
    settings = IntakeSettings(upload_dir=tmp_path, mail=MailSettings(mail_dir=tmp_path / "mail"))
    assert seed_demo_mail(db_session, clock, settings=settings).startswith(
        "demo mail: 4 received (4 held)"
    )
    mails = list(db_session.scalars(select(InboundMail).order_by(InboundMail.id)))
    assert [(m.status, m.hold_reason) for m in mails] == [
        (MailStatus.HELD, "unknown_sender"),
        (MailStatus.HELD, "auto_reply"),
        (MailStatus.HELD, "dmarc_fail"),
        (MailStatus.HELD, "unknown_sender"),
    ]
    assert mails[2].authentication and mails[2].authentication["dmarc"] == "fail"
    assert mails[3].subject and mails[3].subject.startswith("بلاغ")
    assert db_session.in_transaction()  # the command commits, not the seeding
    again = seed_demo_mail(db_session, clock, settings=settings)
    assert again == "demo mail: 0 received (0 held), 4 already there"
