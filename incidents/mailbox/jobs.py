"""The mailbox's recurring job: an adapter for the scheduler, listed in the slice manifest
(:data:`incidents.slice.SLICE`); counted in ``job_runs``, its error recorded there when the
mailbox or the database cannot be used (:mod:`.fetching` says why a run may stop)."""

from __future__ import annotations

from collections.abc import Mapping

from core.jobs import JobContext
from incidents.mailbox import fetching


def read_mailbox(context: JobContext) -> Mapping[str, int]:
    """Every ``CERT_IMAP_INTERVAL`` seconds: the next messages of the mailbox, each received
    then moved to ``CERT_IMAP_DONE_FOLDER`` (:func:`.fetching.read_mailbox`)."""
    return fetching.read_mailbox(context)
