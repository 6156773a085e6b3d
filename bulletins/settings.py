"""The bulletins slice's settings, read from ``CERT_*`` at start-up (:func:`from_config`)."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config


@dataclass(frozen=True)
class BulletinSettings:
    reference_prefix: str = "MACERT"  # CERT_REFERENCE_PREFIX
    timezone: str = "Africa/Casablanca"  # the year of a reference is the CERT's


def from_config(settings: Config) -> BulletinSettings:
    return BulletinSettings(reference_prefix=settings.reference_prefix, timezone=settings.timezone)
