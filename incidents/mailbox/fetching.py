"""Reading the IMAP mailbox: ``CERT_IMAP_URL``'s folder, each message received then moved
(Flask-free). Two adapters run it: the scheduler's job (:mod:`.jobs`) and ``cert mail fetch``
(:mod:`.cli`); like them it opens units of work — one per message, since
:func:`~incidents.mailbox.receiving.receive` commits the stored message before processing it.

Nothing is read twice and nothing is lost, whatever stops a run: each message is fetched with
``BODY.PEEK[]`` (left unread), given to :func:`~incidents.mailbox.receiving.receive` — which
stores the raw bytes under their SHA-256 and commits before deciding anything — and only then
moved to ``CERT_IMAP_DONE_FOLDER``. A run stopped between the two (the server or the network
gone) leaves the message in the folder: the next run reads it again, ``receive`` finds the same
bytes already stored and handled (same SHA-256) and creates nothing twice, and the message is
moved. When the database is unavailable ``receive`` raises, or returns the message still
``received`` (stored, not processed): the run stops there, the message stays in the folder and
the next run takes it again.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Mapping

from core.config import Config
from core.config_values import ImapSettings
from core.errors import DomainError
from core.imap import ImapError, Mailbox, open_mailbox
from core.jobs import JobContext
from incidents.mailbox.models import MailSource, MailStatus
from incidents.mailbox.receiving import Received, receive
from incidents.settings import IntakeSettings

log = logging.getLogger(__name__)

BATCH = 50  # messages read per run, oldest first; the next run takes the rest
COUNTS = (
    "fetched",
    "incidents",
    "replies",
    "held",
    "failed",
    "duplicates",
    "discarded",
    "refused",
)
_COUNTED = {
    MailStatus.INCIDENT: "incidents",
    MailStatus.REPLY: "replies",
    MailStatus.HELD: "held",
    MailStatus.FAILED: "failed",
    MailStatus.DUPLICATE: "duplicates",
    MailStatus.DISCARDED: "discarded",
}


class MailboxUnavailable(Exception):
    """The run stopped: the mailbox or the database could not be used (the message says why;
    recorded as the job run's error)."""


def read_mailbox(context: JobContext) -> Mapping[str, int]:
    """Up to :data:`BATCH` messages of the mailbox, oldest
    first, each received then moved to the done folder. Counts: ``fetched``, what became of the
    new ones (``incidents``, ``replies``, ``held``, ``failed``, ``discarded``) and
    ``duplicates`` (read before, or the same Message-ID from the same sender); ``refused``:
    not a message to keep (empty, beyond the hard ceiling), moved unread to the done folder
    where it stays on the server."""
    config = context.config
    if config.imap is None:
        return {"configured": 0}
    password = _password(config, config.imap)
    counts: Counter[str] = Counter(dict.fromkeys(COUNTS, 0))
    try:
        with open_mailbox(config.imap, password, ca_file=config.imap_ca_file) as mailbox:
            mailbox.ensure_folder(config.imap_done_folder)
            for uid in mailbox.uids(limit=BATCH):
                _handle(context, mailbox, uid, counts)
    except ImapError as exc:
        raise MailboxUnavailable(f"{exc} — after {_summary(counts)}") from None
    return dict(counts)


def _password(config: Config, imap: ImapSettings) -> str:
    """The password from the variable ``CERT_IMAP_PASSWORD_ENV`` names (checked with the
    folders before anything is read)."""
    done, folder = config.imap_done_folder, imap.folder
    if done == folder or done.upper() == folder.upper() == "INBOX":
        raise MailboxUnavailable(
            f"CERT_IMAP_DONE_FOLDER must differ from the folder read ({folder})"
        )
    password = os.environ.get(config.imap_password_env, "")
    if not password:
        raise MailboxUnavailable(
            f"the IMAP password of {imap.username}@{imap.host} is missing: "
            f"set the environment variable {config.imap_password_env} (named by "
            "CERT_IMAP_PASSWORD_ENV)"
        )
    return password


def _handle(context: JobContext, mailbox: Mailbox, uid: int, counts: Counter[str]) -> None:
    """One message: fetch, receive (stored and committed), then move."""
    raw = mailbox.fetch(uid)
    if raw is None:  # moved or expunged by another client since the listing
        return
    counts["fetched"] += 1
    try:
        with context.unit_of_work() as uow:
            settings = uow.settings_of("incidents", IntakeSettings)
            received = receive(uow, raw, source=MailSource.IMAP, settings=settings)
    except DomainError as exc:  # not a message to keep (empty, beyond the hard ceiling)
        log.warning("IMAP message %s not stored (%s): moved to the done folder", uid, exc)
        counts["refused"] += 1
        mailbox.move(uid, context.config.imap_done_folder)
        return
    except Exception as exc:  # the database or the disk: nothing to move, the run stops here
        raise MailboxUnavailable(
            f"message UID {uid} could not be stored ({type(exc).__name__}: {exc}); left in the "
            f"mailbox for the next run — after {_summary(counts)}"
        ) from exc
    if received.status is MailStatus.RECEIVED:  # stored, but the database failed after
        raise MailboxUnavailable(
            f"message {received.mail_id} stored but not processed ({received.error}); "
            f"left in the mailbox for the next run — after {_summary(counts)}"
        )
    counts[_count_of(received)] += 1
    mailbox.move(uid, context.config.imap_done_folder)


def _count_of(received: Received) -> str:
    return "duplicates" if not received.new else _COUNTED[received.status]


def _summary(counts: Counter[str]) -> str:
    return ", ".join(f"{key} {counts[key]}" for key in COUNTS)
