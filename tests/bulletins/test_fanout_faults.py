"""SMTP down during a bulletin's fan-out, on both databases with a real SMTP server (aiosmtpd):
the server stops after the first e-mails of a publication and nobody listens for a while; once it
is back and the outbox drained again, every recipient has the bulletin exactly once and every
delivery row says sent (issue 24, "Faults")."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session, sessionmaker

from bulletins.distribution.deliveries import delivery_page
from bulletins.distribution.sending import publish_and_send
from core.clock import FrozenClock
from core.config import SmtpSettings
from core.mail_sender import drain_outbox
from tests.bulletins.test_authoring import SETTINGS, people
from tests.bulletins.test_distribution_sending import approved, ministries  # noqa: F401
from tests.core.test_mail_connections import _Stopper, _StoppingMailer
from tests.kit.outbox import MAIL_FROM
from tests.kit.smtp import free_port, smtp_server
from tests.kit.world import World

RECIPIENTS = {
    "soc@interieur.gov.ma", "cert@interieur.gov.ma", "soc@sante.gov.ma", "dsi@interieur.gov.ma",
}  # fmt: skip


def test_smtp_down_mid_fan_out_then_every_recipient_gets_it_exactly_once(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    ministries: World,  # noqa: F811
) -> None:
    _, lead, _ = people(ministries)
    bulletin = approved(db_session, clock, ministries, tlp="clear", lists=["all", "interieur"])
    publish_and_send(db_session, lead, bulletin, clock=clock, settings=SETTINGS)
    db_session.commit()
    port = free_port()
    mailer = _StoppingMailer(SmtpSettings(host="127.0.0.1", port=port, timeout=5), after=1)
    per_recipient: Counter[str] = Counter()

    def drain() -> dict[str, int]:
        return drain_outbox(session_factory, mailer, clock=clock, mail_from=MAIL_FROM)

    with smtp_server(port) as first:  # up for one e-mail, then down mid fan-out
        mailer.stop = stopper = _Stopper(first)
        counts = drain()
        assert stopper.stopped
        per_recipient.update(a for r in first.handler.received for a in r.rcpt_tos)
    assert counts["sent"] == 1 and counts["retried"] == len(RECIPIENTS) - 1, counts
    assert counts["failed"] == 0
    mailer.stop = None
    clock.advance(seconds=30)
    assert drain()["retried"] == len(RECIPIENTS) - 1  # still nobody listening: kept, not lost
    db_session.expire_all()
    pending = delivery_page(db_session, bulletin.id, limit=10, offset=0).counts
    assert pending.get("sent") == 1 and pending.get("failed", 0) == 0, pending

    clock.advance(minutes=5)  # past the back-off
    with smtp_server(port) as second:  # back
        assert drain() == {"sent": len(RECIPIENTS) - 1, "retried": 0, "failed": 0}
        assert drain()["sent"] == 0  # nothing left to send twice
        per_recipient.update(a for r in second.handler.received for a in r.rcpt_tos)
    assert per_recipient == dict.fromkeys(RECIPIENTS, 1)
    db_session.expire_all()
    page = delivery_page(db_session, bulletin.id, limit=10, offset=0)
    assert page.counts == {"sent": len(RECIPIENTS)}
    assert {row.email for row in page.rows} == RECIPIENTS
