"""The notification centre's recurring jobs: adapters for the scheduler, listed in the slice
manifest (:data:`incidents.slice.SLICE`). Each runs in one transaction, acting as the scheduler;
housekeeping like the outbox drain: counted in ``job_runs``, not audited."""

from __future__ import annotations

from collections.abc import Mapping

from core.jobs import JobContext
from incidents.notifications.escalation import escalate
from incidents.notifications.mailing import send_notification_mails
from incidents.notifications.reporter_mail import send_reporter_mails
from incidents.notifications.sla_watch import scan
from incidents.settings import IntakeSettings


def send_mail(context: JobContext) -> Mapping[str, int]:
    """Every ``CERT_NOTIFY_MAIL_INTERVAL`` seconds: the notification e-mails due (immediately,
    or the daily digest from ``CERT_NOTIFY_DIGEST_HOUR`` on) and the reporters' status-change
    e-mails, queued in the outbox."""
    with context.unit_of_work(write=True) as uow:
        settings = uow.settings_of("incidents", IntakeSettings)
        counts = send_notification_mails(uow.session, settings=settings, clock=uow.clock)
        counts["reporters"] = send_reporter_mails(uow.session, settings=settings, clock=uow.clock)
    return counts


def watch_sla(context: JobContext) -> Mapping[str, int]:
    """Every ``CERT_NOTIFY_SLA_INTERVAL`` seconds: record the SLA due dates newly due soon or
    breached (``incident.sla_due_soon``, ``incident.sla_breached``)."""
    with context.unit_of_work(write=True) as uow:
        settings = uow.settings_of("incidents", IntakeSettings)
        return scan(uow.session, uow.acting, clock=uow.clock, window=settings.due_soon)


def escalate_unacknowledged(context: JobContext) -> Mapping[str, int]:
    """Every ``CERT_NOTIFY_SLA_INTERVAL`` seconds: take the escalation steps due on incidents of
    ``CERT_ESCALATION_PRIORITIES`` not acknowledged in time (``incident.escalated``)."""
    with context.unit_of_work(write=True) as uow:
        settings = uow.settings_of("incidents", IntakeSettings)
        return escalate(uow.session, uow.acting, clock=uow.clock, settings=settings)
