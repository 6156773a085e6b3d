"""The incidents slice's settings, read from ``CERT_*`` at start-up (:func:`from_config`, the
settings hook of :data:`incidents.slice.SLICE`) and handed to the use cases by the adapters
(``app.extensions["incidents"]``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.config import Config, ConfigError
from core.i18n import DEFAULT_TIMEZONE
from core.mail import domain_of
from incidents.rules.priority import DEFAULT_SLA, Priority, SlaTarget, parse_sla_policy


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


def from_config(settings: Config) -> IntakeSettings:
    """What the incidents slice needs from configuration. ``CERT_SLA_POLICY`` is parsed here,
    once (the kernel keeps its text): a bad one is a one-line ``ConfigError`` naming the variable
    and the bad entry, raised wherever the hook runs — the app factory, any ``cert`` command."""
    try:
        sla_policy = parse_sla_policy(settings.sla_policy)
    except ValueError as exc:
        raise ConfigError(f"CERT_SLA_POLICY: {exc}") from None
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
    )
