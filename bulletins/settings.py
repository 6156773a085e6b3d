"""The bulletins slice's settings, read from ``CERT_*`` at start-up (:func:`from_config`, kept in
``app.extensions["bulletins"]`` and ``JobContext.settings["bulletins"]``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from core.config import Config, ConfigError
from core.mail import domain_of


@dataclass(frozen=True)
class BulletinSettings:
    reference_prefix: str = "MACERT"  # CERT_REFERENCE_PREFIX
    timezone: str = "Africa/Casablanca"  # CERT_TIMEZONE: the year of a reference, digest times
    cert_name: str = "maCERT"  # CERT_NAME: PDF header, e-mails, CSAF publisher, STIX identity
    base_url: str = ""  # CERT_BASE_URL: links in e-mails and feeds, the CSAF namespace
    digest_time: dt.time = dt.time(8, 0)  # CERT_BULLETIN_DIGEST_TIME (local)
    digest_weekday: int = 1  # CERT_BULLETIN_DIGEST_WEEKDAY (ISO: 1 = Monday)
    mail_domain: str = "localhost"  # of CERT_MAIL_FROM: the Message-IDs of bulletin e-mails


def parse_time(raw: str) -> dt.time:
    """``"08:00"`` → 08:00; ``ValueError`` otherwise."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", raw)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{raw!r} is not a time of day HH:MM (e.g. 08:00)")
    return dt.time(int(match[1]), int(match[2]))


def from_config(settings: Config) -> BulletinSettings:
    try:
        digest_time = parse_time(settings.bulletin_digest_time)
    except ValueError as exc:
        raise ConfigError(f"CERT_BULLETIN_DIGEST_TIME: {exc}") from None
    return BulletinSettings(
        reference_prefix=settings.reference_prefix,
        timezone=settings.timezone,
        cert_name=settings.cert_name,
        base_url=settings.base_url.rstrip("/"),
        digest_time=digest_time,
        digest_weekday=settings.bulletin_digest_weekday,
        mail_domain=domain_of(settings.mail_from),
    )


def of_context(settings: Mapping[str, object]) -> BulletinSettings:
    """The slice's settings among those a command or job context built at start-up (keyed by
    slice name); the defaults when absent."""
    found = settings.get("bulletins")
    return found if isinstance(found, BulletinSettings) else BulletinSettings()
