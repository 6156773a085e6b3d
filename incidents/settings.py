"""The incidents slice's settings, read from ``CERT_*`` at start-up (:func:`from_config`, the
settings hook of :data:`incidents.slice.SLICE`) and handed to the use cases by the adapters
(``app.extensions["incidents"]``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from core.config import Config, ConfigError
from core.i18n import DEFAULT_TIMEZONE
from core.mail import domain_of
from incidents.rules.escalation_steps import (
    DEFAULT_PRIORITIES,
    DEFAULT_STEPS,
    EscalationStep,
    parse_priorities,
    parse_steps,
)
from incidents.rules.priority import DEFAULT_SLA, Priority, SlaTarget, parse_sla_policy


@dataclass(frozen=True)
class MailSettings:
    """The CERT mailbox (:mod:`incidents.mailbox`): what it keeps and whom it trusts."""

    mail_dir: Path = Path("instance/uploads/mail")  # raw messages, by SHA-256
    max_bytes: int = 25 * 1024 * 1024  # CERT_MAIL_MAX_MB: a larger message is held
    trusted_authserv_id: str | None = None  # CERT_MAIL_TRUSTED_AUTHSERV_ID
    require_auth: bool = False  # CERT_MAIL_REQUIRE_AUTH: hold without a DMARC/DKIM/SPF pass
    own_address: str = "noreply@localhost"  # of CERT_MAIL_FROM: never answered (no loops)


@dataclass(frozen=True)
class IntakeSettings:
    reference_prefix: str = "MACERT"
    base_url: str = "http://127.0.0.1:5000"
    mail_domain: str = "localhost"
    timezone: str = DEFAULT_TIMEZONE
    sla_policy: Mapping[Priority, SlaTarget] = field(default_factory=lambda: dict(DEFAULT_SLA))
    duplicate_window: dt.timedelta = dt.timedelta(days=30)
    idempotency_ttl: dt.timedelta = dt.timedelta(hours=24)
    upload_dir: Path = Path("instance/uploads")
    max_upload_bytes: int = 20 * 1024 * 1024
    digest_hour: int = 8  # the notification digest's hour, in ``timezone``
    due_soon: dt.timedelta = dt.timedelta(minutes=60)  # the SLA watch's longest "due soon"
    # retro-hunt: new indicators are matched against the incidents received this long ago
    retrohunt_window: dt.timedelta = dt.timedelta(days=30)
    # duty and escalation (incidents.notifications.escalation): the priorities that page the
    # staff on duty and escalate when not acknowledged in time, and the steps
    escalation_priorities: frozenset[Priority] = DEFAULT_PRIORITIES
    escalation_steps: tuple[EscalationStep, ...] = DEFAULT_STEPS
    mail: MailSettings = field(default_factory=MailSettings)


def from_config(settings: Config) -> IntakeSettings:
    """What the incidents slice needs from configuration. ``CERT_SLA_POLICY`` is parsed here,
    once (the kernel keeps its text), and so are ``CERT_ESCALATION_STEPS`` and
    ``CERT_ESCALATION_PRIORITIES``: a bad one is a one-line ``ConfigError`` naming the variable
    and the bad entry, raised wherever the hook runs — the app factory, any ``cert`` command."""
    try:
        sla_policy = parse_sla_policy(settings.sla_policy)
    except ValueError as exc:
        raise ConfigError(f"CERT_SLA_POLICY: {exc}") from None
    try:
        escalation_steps = parse_steps(settings.escalation_steps)
    except ValueError as exc:
        raise ConfigError(f"CERT_ESCALATION_STEPS: {exc}") from None
    try:
        escalation_priorities = parse_priorities(settings.escalation_priorities)
    except ValueError as exc:
        raise ConfigError(f"CERT_ESCALATION_PRIORITIES: {exc}") from None
    return IntakeSettings(
        reference_prefix=settings.reference_prefix,
        base_url=settings.base_url,
        mail_domain=domain_of(settings.mail_from),
        timezone=settings.timezone,
        sla_policy=sla_policy,
        duplicate_window=dt.timedelta(days=settings.duplicate_window_days),
        idempotency_ttl=dt.timedelta(hours=settings.idempotency_ttl_hours),
        upload_dir=settings.upload_dir,
        max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
        digest_hour=settings.notify_digest_hour,
        due_soon=dt.timedelta(minutes=settings.notify_due_soon_minutes),
        retrohunt_window=dt.timedelta(days=settings.retrohunt_days),
        escalation_priorities=escalation_priorities,
        escalation_steps=escalation_steps,
        mail=MailSettings(
            mail_dir=settings.upload_dir / "mail",
            max_bytes=settings.mail_max_mb * 1024 * 1024,
            trusted_authserv_id=settings.mail_trusted_authserv_id.strip().lower() or None,
            require_auth=settings.mail_require_auth,
            own_address=parseaddr(settings.mail_from)[1].lower(),
        ),
    )
