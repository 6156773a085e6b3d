"""The playbooks slice's settings, read from ``CERT_*`` at start-up (:func:`from_config`, the
settings hook of :data:`playbooks.slice.SLICE`) and handed to the engine by jobs and adapters
(``app.extensions["playbooks"]``, ``JobContext.settings["playbooks"]``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.config import Config, ConfigError
from feeds import settings as feeds_settings
from feeds.settings import FeedSettings
from incidents import settings as incidents_settings
from incidents.settings import IntakeSettings


@dataclass(frozen=True)
class HttpTarget:
    """A host (and port, ``None``: the scheme's default) ``http-api`` commands may call."""

    host: str
    port: int | None = None

    def admits(self, host: str, port: int | None, *, default_port: int) -> bool:
        return host.lower().rstrip(".") == self.host and (self.port or default_port) == (
            port or default_port
        )


@dataclass(frozen=True)
class PlaybookSettings:
    max_steps: int = 500  # a run's step budget
    max_days: int = 30  # a run's time budget
    http_allow: tuple[HttpTarget, ...] = ()  # empty: http-api commands are refused
    http_timeout_seconds: float = 10.0
    timezone: str = "Africa/Casablanca"  # schedules' default time zone (CERT_TIMEZONE)
    # what the x-vigie actions hand the incidents' and feeds' services (links, SLA policy,
    # mail domain; HTTP limits of a feed poll), read from the same configuration
    intake: IntakeSettings = field(default_factory=IntakeSettings)
    feeds: FeedSettings = field(default_factory=FeedSettings)
    base_url: str = ""  # CERT_BASE_URL: the runs' __incident_url__ (empty: none)

    def allows(self, host: str, port: int | None, *, default_port: int) -> bool:
        return any(t.admits(host, port, default_port=default_port) for t in self.http_allow)


def parse_allow_list(raw: str) -> tuple[HttpTarget, ...]:
    """``"siem.gov.ma, 10.0.0.5:8443"`` → targets; ``ValueError`` naming the bad entry."""
    targets: list[HttpTarget] = []
    for entry in (e.strip() for e in raw.split(",")):
        if not entry:
            continue
        host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        host = host.lower().rstrip(".").strip("[]")
        if not host or any(c in host for c in "/@?# ") or "://" in entry:
            raise ValueError(f"{entry!r} is not host or host:port")
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise ValueError(f"{entry!r}: the port must be 1 to 65535")
        targets.append(HttpTarget(host, int(port) if port else None))
    return tuple(targets)


def from_config(settings: Config) -> PlaybookSettings:
    try:
        allow = parse_allow_list(settings.playbook_http_allow)
    except ValueError as exc:
        raise ConfigError(f"CERT_PLAYBOOK_HTTP_ALLOW: {exc}") from None
    return PlaybookSettings(
        max_steps=settings.playbook_max_steps,
        max_days=settings.playbook_max_days,
        http_allow=allow,
        http_timeout_seconds=settings.playbook_http_timeout_seconds,
        timezone=settings.timezone,
        intake=incidents_settings.from_config(settings),
        feeds=feeds_settings.from_config(settings),
        base_url=settings.base_url,
    )


def of_context(settings: Mapping[str, object]) -> PlaybookSettings:
    """The slice's settings among those a command or job context built at start-up (keyed by
    slice name); the defaults when the slice's are absent."""
    found = settings.get("playbooks")
    return found if isinstance(found, PlaybookSettings) else PlaybookSettings()
