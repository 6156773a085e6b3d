"""The intake's recurring job: an adapter for the scheduler, listed in the slice manifest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from core.jobs import JobContext
from incidents.intake.idempotency import purge_expired_keys


def purge_idempotency_keys(context: JobContext) -> Mapping[str, int]:
    """Forget the ``Idempotency-Key`` rows older than ``CERT_IDEMPOTENCY_TTL_HOURS``, in one
    transaction. Housekeeping, like the outbox drain: counted in ``job_runs``, not audited."""
    cutoff = context.clock.now() - dt.timedelta(hours=context.config.idempotency_ttl_hours)
    with context.unit_of_work() as uow:
        deleted = purge_expired_keys(uow.session, older_than=cutoff)
    return {"deleted": deleted}
