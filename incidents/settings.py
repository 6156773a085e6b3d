"""The incidents slice's settings, read from ``CERT_*`` at start-up
(:func:`cert.app.intake_settings`) and handed to the use cases by the adapters
(``app.extensions["incidents"]``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from incidents.rules.priority import DEFAULT_SLA, Priority, SlaTarget


@dataclass(frozen=True)
class IntakeSettings:
    reference_prefix: str = "MACERT"
    base_url: str = "http://127.0.0.1:5000"
    mail_domain: str = "localhost"
    timezone: str = "Africa/Casablanca"
    sla_policy: Mapping[Priority, SlaTarget] = field(default_factory=lambda: dict(DEFAULT_SLA))
    duplicate_window: dt.timedelta = dt.timedelta(days=30)
    idempotency_ttl: dt.timedelta = dt.timedelta(hours=24)
    upload_dir: Path = Path("instance/uploads")
    max_upload_bytes: int = 20 * 1024 * 1024
