"""The digests' scheduler job (an adapter, listed in :data:`bulletins.slice.SLICE`)."""

from __future__ import annotations

from collections.abc import Mapping

from bulletins.digests import services
from bulletins.settings import of_context
from core.jobs import JobContext
from core.mail import domain_of


def mailing_of(context: JobContext) -> services.Mailing:
    config = context.config
    return services.Mailing(of_context(context.settings), context.clock, config.secret_key,
                   domain_of(config.mail_from))  # fmt: skip


def send_due_digests(context: JobContext) -> Mapping[str, int]:
    """Every ``CERT_BULLETIN_DIGEST_INTERVAL`` seconds: queue the digests whose period ended."""
    return services.send_due_digests(context.session_factory, mailing_of(context))
