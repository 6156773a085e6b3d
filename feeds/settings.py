"""The feeds slice's settings, read from ``CERT_*`` at start-up (:func:`from_config`, the
settings hook of :data:`feeds.slice.SLICE`) and handed to the use cases by the adapters
(``app.extensions["feeds"]``) and jobs."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config


@dataclass(frozen=True)
class FeedSettings:
    timeout_seconds: float = 60.0  # one HTTP request at most
    max_bytes: int = 512 * 1024 * 1024  # a downloaded document at most
    allow_private: bool = False  # URLs may name loopback or private addresses
    retrohunt_days: int = 30


def from_config(settings: Config) -> FeedSettings:
    return FeedSettings(
        timeout_seconds=settings.feeds_timeout_seconds,
        max_bytes=settings.feeds_max_mb * 1024 * 1024,
        allow_private=settings.feeds_allow_private,
        retrohunt_days=settings.retrohunt_days,
    )
