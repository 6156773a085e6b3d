"""The values of ``CERT_*`` variables: one parser per kind, each raising a one-line
:class:`ConfigError` that names the variable (used by :mod:`core.config`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.i18n import DEFAULT_TIMEZONE


class ConfigError(Exception):
    """A configuration value is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how outgoing mail is delivered (parsed from ``CERT_SMTP_URL``)."""

    host: str = "127.0.0.1"
    port: int = 25
    ssl: bool = False  # smtps:// (implicit TLS)
    starttls: bool = False  # smtp://…?starttls=1
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0


def _positive_int(name: str, raw: str) -> int:
    value = _whole(name, raw)
    if value <= 0:
        raise ConfigError(f"{name}: must be greater than zero, got {value}")
    return value


def _int_up_to(maximum: int, minimum: int = 1) -> Callable[[str, str], int]:
    """A whole number from ``minimum`` to ``maximum``: larger values are mistakes (and some would
    overflow a date computation at request time instead of failing at start-up)."""

    def parse(name: str, raw: str) -> int:
        value = _positive_int(name, raw) if minimum > 0 else _whole(name, raw)
        if not minimum <= value <= maximum:
            raise ConfigError(f"{name}: must be from {minimum} to {maximum}, got {value}")
        return value

    return parse


def _whole(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None


def _seconds(name: str, raw: str) -> float:
    """A positive number of seconds, at most an hour (a poll period, a network timeout)."""
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name}: must be greater than zero, got {value}")
    if value > 3600:
        raise ConfigError(f"{name}: must be at most 3600, got {value}")
    return value


def _seconds_between(minimum: float, maximum: float) -> Callable[[str, str], float]:
    """A number of seconds from ``minimum`` to ``maximum`` (0 — "wait forever" — is refused)."""

    def parse(name: str, raw: str) -> float:
        value = _seconds(name, raw)
        if not minimum <= value <= maximum:
            raise ConfigError(f"{name}: must be from {minimum:g} to {maximum:g}, got {value:g}")
        return value

    return parse


def _rate_limit(name: str, raw: str) -> str:
    """A Flask-Limiter limit such as ``60 per minute`` or ``1000/hour``."""
    try:
        limits = parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected e.g. '60 per minute', got {raw!r}") from None
    if any(limit.amount < 1 for limit in limits):
        raise ConfigError(f"{name}: a limit of 0 would refuse every request, got {raw!r}")
    return raw


def _database_url(name: str, raw: str) -> str:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(f"{name}: not a database URL: {raw!r}") from None
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(
            f"{name}: only sqlite and postgresql are supported, got {url.drivername!r}"
        )
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername not in {"sqlite", "postgresql+psycopg"}:
        raise ConfigError(f"{name}: use sqlite:// or postgresql+psycopg://, got {url.drivername!r}")
    return url.render_as_string(hide_password=False)


def database_url_with_password(url_text: str, password: str) -> str:
    """``CERT_DATABASE_URL`` with ``CERT_DATABASE_PASSWORD`` put in: the password may then come
    from a secret file (``CERT_DATABASE_PASSWORD_FILE``, the one PostgreSQL's own container
    reads) rather than sit in the URL, and needs no URL escaping."""
    url = make_url(url_text)
    if url.get_backend_name() != "postgresql":
        raise ConfigError("CERT_DATABASE_PASSWORD: only with a postgresql:// CERT_DATABASE_URL")
    if url.password is not None:
        raise ConfigError("CERT_DATABASE_PASSWORD: CERT_DATABASE_URL carries a password too")
    return url.set(password=password).render_as_string(hide_password=False)


def _base_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(f"{name}: expected an http:// or https:// URL, got {raw!r}")
    return raw.rstrip("/")


def parse_smtp_url(name: str, raw: str) -> SmtpSettings:
    """``smtp://[user:pass@]host[:port][?starttls=1&timeout=10]`` or ``smtps://…``."""
    parts = urlsplit(raw)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ConfigError(
            f"{name}: expected smtp://host[:port] or smtps://host[:port], got {raw!r}"
        )
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    unknown = set(query) - {"starttls", "timeout"}
    if unknown:
        raise ConfigError(f"{name}: unknown option(s) {', '.join(sorted(unknown))}")
    starttls = query.get("starttls", "0").lower() in {"1", "true", "yes", "on"}
    ssl = parts.scheme == "smtps"
    if ssl and starttls:
        raise ConfigError(f"{name}: smtps:// already uses TLS; drop starttls")
    try:
        port = parts.port or (465 if ssl else 25)
    except ValueError:
        raise ConfigError(f"{name}: invalid port in {raw!r}") from None
    timeout = _seconds(name, query["timeout"]) if "timeout" in query else 10.0
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        ssl=ssl,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
    )


def _mail_from(name: str, raw: str) -> str:
    if "@" not in raw:
        raise ConfigError(f"{name}: expected an e-mail address, got {raw!r}")
    return raw


def _prefix(name: str, raw: str) -> str:
    if not raw.isascii() or not raw.isalnum() or not raw.isupper() or len(raw) > 16:
        raise ConfigError(f"{name}: expected up to 16 upper-case letters or digits, got {raw!r}")
    return raw


def _secret(name: str, raw: str) -> str:
    if len(raw) < 32:
        raise ConfigError(f"{name}: must be at least 32 characters long")
    return raw


def _path(name: str, raw: str) -> Path:
    if not raw.strip():
        raise ConfigError(f"{name}: must not be empty")
    return Path(raw).expanduser().resolve()


def _flag(name: str, raw: str) -> bool:
    """``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off`` (any case)."""
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}: expected 1/true/yes/on or 0/false/no/off, got {raw!r}")


def _text(name: str, raw: str) -> str:
    if not raw.strip():
        raise ConfigError(f"{name}: must not be empty")
    return raw


ROLE_NAMES = ("reporter", "analyst", "lead", "admin")  # core.identity.models.Role's values


def _roles(name: str, raw: str) -> str:
    """Comma-separated role names, normalised (``none``: no role)."""
    words = [word.strip().lower() for word in raw.split(",") if word.strip()]
    if words == ["none"]:
        return ""
    unknown = [word for word in words if word not in ROLE_NAMES]
    if unknown:
        raise ConfigError(
            f"{name}: unknown role {unknown[0]!r} (roles: {', '.join(ROLE_NAMES)}, or none)"
        )
    return ",".join(role for role in ROLE_NAMES if role in words)


def _timezone(name: str, raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name}: unknown time zone {raw!r} (e.g. {DEFAULT_TIMEZONE})") from None
    return raw


@dataclass(frozen=True)
class ImapSettings:
    """The CERT mailbox the scheduler reads (parsed from ``CERT_IMAP_URL``); the password is
    never in the URL: it is read, when the job runs, from the environment variable that
    ``CERT_IMAP_PASSWORD_ENV`` names."""

    host: str
    port: int
    ssl: bool  # imaps:// (implicit TLS); imap:// upgrades with STARTTLS
    username: str
    folder: str = "INBOX"
    timeout: float = 30.0


def parse_imap_url(name: str, raw: str) -> ImapSettings:
    """``imaps://user@host[:port]/FOLDER`` or ``imap://user@host[:port]/FOLDER[?timeout=30]``
    (``imap://`` switches to TLS with STARTTLS; only a loopback server may go without)."""
    parts = urlsplit(raw)
    if parts.scheme not in {"imap", "imaps"} or not parts.hostname:
        raise ConfigError(f"{name}: expected imaps://user@host[:port]/FOLDER, got {raw!r}")
    if parts.password is not None:
        raise ConfigError(
            f"{name}: no password in the URL; put it in the variable CERT_IMAP_PASSWORD_ENV names"
        )
    if not parts.username:
        raise ConfigError(f"{name}: the user is missing (imaps://user@host/INBOX)")
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    unknown = set(query) - {"timeout"}
    if unknown:
        raise ConfigError(f"{name}: unknown option(s) {', '.join(sorted(unknown))}")
    ssl = parts.scheme == "imaps"
    try:
        port = parts.port or (993 if ssl else 143)
    except ValueError:
        raise ConfigError(f"{name}: invalid port in {raw!r}") from None
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    if any(c in folder for c in '"\\\r\n\0') or len(folder) > 200:
        raise ConfigError(f"{name}: invalid folder name {folder!r}")
    timeout = _seconds(name, query["timeout"]) if "timeout" in query else 30.0
    return ImapSettings(
        host=parts.hostname,
        port=port,
        ssl=ssl,
        username=unquote(parts.username),
        folder=folder,
        timeout=timeout,
    )


def _env_name(name: str, raw: str) -> str:
    """The name of an environment variable (upper-case letters, digits, underscores)."""
    if not raw.isascii() or not raw.replace("_", "").isalnum() or raw[0].isdigit():
        raise ConfigError(f"{name}: expected an environment variable's name, got {raw!r}")
    return raw


def _folder(name: str, raw: str) -> str:
    if not raw.strip() or any(c in raw for c in '"\\\r\n\0') or len(raw) > 200:
        raise ConfigError(f"{name}: expected an IMAP folder name, got {raw!r}")
    return raw.strip()


def _choice(*options: str) -> Callable[[str, str], str]:
    """One of ``options`` (any case), returned in lower case."""

    def parse(name: str, raw: str) -> str:
        lowered = raw.strip().lower()
        if lowered not in options:
            raise ConfigError(f"{name}: expected one of {', '.join(options)}, got {raw!r}")
        return lowered

    return parse


def _log_level(name: str, raw: str) -> str:
    """A logging level name: DEBUG, INFO, WARNING, ERROR or CRITICAL (any case)."""
    upper = raw.strip().upper()
    if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ConfigError(f"{name}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got {raw!r}")
    return upper


def _networks(name: str, raw: str) -> str:
    """Comma-separated IP networks (``10.0.0.0/8,::1``), normalised; ``none``: no address."""
    words = [word.strip() for word in raw.split(",") if word.strip()]
    if [word.lower() for word in words] == ["none"]:
        return ""
    try:
        return ",".join(str(ipaddress.ip_network(word, strict=False)) for word in words)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def read_secret_file(name: str, raw: str) -> str:
    """The content of the file ``raw`` names (``CERT_X_FILE``: Docker and Kubernetes secrets),
    one trailing newline removed; refused naming the variable when unreadable or empty."""
    try:
        content = Path(raw).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{name}: cannot read {raw!r}: {reason}") from None
    content = content.removesuffix("\n").removesuffix("\r")
    if not content.strip():
        raise ConfigError(f"{name}: the file {raw!r} is empty")
    return content
