"""The held-mail queue's demo messages (``cert demo``): a few messages an analyst must look at,
received through :func:`incidents.mailbox.receiving.receive` as the mailbox job would — so
they are stored, parsed and held by the real rules. The messages are data:
``data/demo_mail/*.eml`` (an unknown sender's phishing report in French, an out-of-office reply,
a DMARC-failed message in a ministry contact's name, an Arabic report from an unknown address).

Receiving runs several transactions; in ``cert demo`` they are savepoints of the command's
transaction (:class:`_InCommand`), so the command still commits once. The same bytes are the same
message: seeding again adds nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from importlib import resources

from sqlalchemy.orm import Session

from core.clock import Clock
from core.uow import UnitOfWork
from incidents.mailbox.models import MailSource
from incidents.mailbox.receiving import receive
from incidents.settings import IntakeSettings

# the demo's receiving MTA (the Authentication-Results of the samples): trusted when no
# CERT_MAIL_TRUSTED_AUTHSERV_ID is configured, so that the DMARC-failed sample is held as such
DEMO_AUTHSERV_ID = "mx.cert.gov.ma"


class _InCommand(UnitOfWork):
    """A unit of work whose transactions are savepoints of the caller's transaction."""

    def transaction(self, *, write: bool = True) -> AbstractContextManager[Session]:
        return self._savepoint()

    @contextmanager
    def _savepoint(self) -> Iterator[Session]:
        with self.session.begin_nested():
            yield self.session


def samples() -> list[bytes]:
    folder = resources.files("incidents").joinpath("data/demo_mail")
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".eml"))
    return [folder.joinpath(name).read_bytes() for name in names]


def seed_demo_mail(session: Session, clock: Clock, *, settings: IntakeSettings) -> str:
    """Receive the sample messages (those received already are left as they are)."""
    if settings.mail.trusted_authserv_id is None:
        mail = dataclasses.replace(settings.mail, trusted_authserv_id=DEMO_AUTHSERV_ID)
        settings = dataclasses.replace(settings, mail=mail)
    uow = _InCommand(session, clock)
    results = [receive(uow, raw, source=MailSource.PIPE, settings=settings) for raw in samples()]
    new = [r for r in results if r.new]
    held = sum(1 for r in new if r.status == "held")
    return f"demo mail: {len(new)} received ({held} held), {len(results) - len(new)} already there"
