"""Configuration: defaults, ``CERT_*`` environment variables, and their validation.

Only the composition root (``cert.app``, ``cert.cli``, ``cert.scheduler``) reads this module;
everything else receives the values it needs as arguments. Invalid values stop start-up with a
one-line :class:`ConfigError` that names the variable. A slice's own grammar (``CERT_SLA_POLICY``)
is not known here: the slice's settings hook parses it when the application or a ``cert``
command starts (:class:`core.slices.Slice`), and raises the same kind of error.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from argon2 import Parameters

from core.auth import hashing
from core.config_values import (
    ConfigError,
    ImapSettings,
    SmtpSettings,
    _base_url,
    _choice,
    _database_url,
    _env_name,
    _flag,
    _folder,
    _int_up_to,
    _log_level,
    _mail_from,
    _networks,
    _path,
    _prefix,
    _rate_limit,
    _roles,
    _seconds,
    _seconds_between,
    _secret,
    _text,
    _timezone,
    database_url_with_password,
    parse_imap_url,
    parse_smtp_url,
    read_secret_file,
)
from core.i18n import DEFAULT_TIMEZONE

DEFAULT_INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


@dataclass(frozen=True)
class Config:
    """Every setting Vigie reads. Instances are immutable; use :func:`load_config` to build one."""

    instance_dir: Path = DEFAULT_INSTANCE_DIR
    database_url: str = ""
    database_password: str = field(default="", repr=False)  # put into database_url (PostgreSQL)
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:5000"
    smtp_url: str = "smtp://127.0.0.1:25"
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    mail_from: str = "Vigie <noreply@localhost>"
    reference_prefix: str = "MACERT"
    upload_dir: Path = DEFAULT_INSTANCE_DIR / "uploads"
    max_upload_mb: int = 20
    ratelimit_storage_url: str = "memory://"
    login_rate_limit: str = "10 per minute"
    session_idle_minutes: int = 30  # a web session ends after this long without a request
    session_max_hours: int = 12  # and this long after sign-in, whatever the activity
    password_reset_hours: int = 24  # a link to set a password works this long, once
    proxy_count: int = 0  # reverse proxies whose X-Forwarded-* headers are trusted
    outbox_interval_seconds: int = 30
    outbox_max_attempts: int = 8
    scheduler_poll_seconds: float = 1.0
    scheduler_lock_key: int = 0x56494749  # "VIGI"
    timezone: str = DEFAULT_TIMEZONE
    sla_policy: str = ""  # e.g. "P1=1h/24h,P2=4h/3d": parsed by the incidents slice's settings
    duplicate_window_days: int = 30
    idempotency_ttl_hours: int = 24  # an Idempotency-Key replays for this long, then is purged
    idempotency_purge_interval_seconds: int = 3600
    job_runs_retention_days: int = 30  # `cert jobs list` history; older finished runs are purged
    api_write_rate_limit: str = "60 per minute"  # per bearer token, on each API POST route
    db_lock_timeout_seconds: float = 5.0  # PostgreSQL: a web request waits this long for a lock
    db_statement_timeout_seconds: float = 30.0  # PostgreSQL: a web request's statement at most
    events_interval_seconds: int = 5  # domain events delivered to their handlers this often
    events_max_attempts: int = 8  # a handler failing this many times: delivery marked failed
    events_retention_days: int = 30  # delivered domain events older than this are purged
    # the notification centre (incidents.notifications)
    notify_mail_interval_seconds: int = 60  # notification e-mails and digests queued this often
    notify_digest_hour: int = 8  # the daily digest leaves at this hour (CERT_TIMEZONE)
    notify_sla_interval_seconds: int = 300  # the SLA watch scans the due dates this often
    notify_due_soon_minutes: int = 60  # "due soon" at most this long before a due date
    # vigilance centres: who is told when a new P1/P2 is not acknowledged by its acknowledge-by
    # time — "<step>+<minutes after the due time>", steps: leads (the centre's leads),
    # national (the national centre's on-duty analysts and leads); parsed by the incidents slice
    escalation_steps: str = "leads+0,national+30"
    escalation_priorities: str = "P1,P2"  # which new incidents notify the on-duty analyst
    # threat intelligence (the feeds slice and the incidents' enrichment)
    feeds_poll_interval_seconds: int = 60  # the scheduler looks for feeds due this often
    feeds_timeout_seconds: float = 60.0  # one HTTP request to a feed or TAXII server at most
    feeds_max_mb: int = 512  # a downloaded feed document at most (refused beyond)
    feeds_allow_private: bool = False  # feed URLs may name loopback/private hosts (tests, labs)
    retrohunt_days: int = 30  # new indicators are matched against incidents received since
    # playbooks (the playbooks slice: CACAO engine, triggers, schedules)
    playbooks_interval_seconds: int = 5  # runs with steps to do are advanced this often
    playbook_schedules_interval_seconds: int = 60  # due schedules are fired this often
    playbook_max_steps: int = 500  # a run's step budget (loops included)
    playbook_max_days: int = 30  # a run's time budget: failed when still unfinished after it
    playbook_http_allow: str = ""  # http-api commands: allowed "host[:port]" list, comma-separated
    playbook_http_timeout_seconds: float = 10.0  # one http-api call at most
    # bulletins (the bulletins slice: advisories, distribution lists, digests)
    cert_name: str = "maCERT"  # the CERT's name on bulletins (PDF header, e-mails, CSAF publisher)
    bulletin_digest_time: str = "08:00"  # digests leave at this local time (CERT_TIMEZONE)
    bulletin_digest_weekday: int = 1  # weekly digests leave on this ISO weekday (1 = Monday)
    bulletin_digest_interval_seconds: int = 300  # the scheduler looks for due digests this often
    # the CERT mailbox (incidents.mailbox): reports and answers by e-mail
    imap_url: str = ""  # imaps://user@host/INBOX; empty: the mailbox job reads nothing
    imap: ImapSettings | None = None  # parsed from imap_url by load_config
    imap_password_env: str = "CERT_IMAP_PASSWORD"  # noqa: S105  (a variable's name)
    imap_done_folder: str = "Vigie-traites"  # where each handled message is moved
    imap_interval_seconds: int = 60  # the mailbox is read this often
    imap_ca_file: Path | None = None  # a private CA to verify the IMAP server with
    mail_trusted_authserv_id: str = ""  # the receiving MTA's Authentication-Results id
    mail_require_auth: bool = False  # hold mail without a DMARC (or DKIM/SPF) pass
    mail_max_mb: int = 25  # a received message at most (held beyond)
    # two-factor sign-in (core.auth.mfa): roles that must enrol before opening anything
    mfa_required_roles: str = "analyst,lead,admin"
    # single sign-on with OpenID Connect (core.auth.sso, cert.accounts.sso); off while no issuer
    oidc_issuer: str = ""  # https://idp.example.ma/realms/gov (discovery: …/.well-known/…)
    oidc_client_id: str = ""
    oidc_client_secret_file: Path | None = None  # a file holding the client secret
    oidc_role_claim: str = "roles"  # the ID token / userinfo claim carrying the user's groups
    oidc_role_map: str = ""  # "claim value=role@organisation slug", comma-separated
    oidc_provider_name: str = ""  # "Sign in with <name>"; default: the issuer's host
    oidc_scopes: str = "openid email profile"
    oidc_local_passwords: bool = True  # false: accounts linked to the provider sign in there only
    # Argon2id cost of new password hashes (core.auth.hashing); at least OWASP's minimum
    argon2_time_cost: int = hashing.PRODUCTION.time_cost
    argon2_memory_kib: int = hashing.PRODUCTION.memory_cost
    argon2_parallelism: int = hashing.PRODUCTION.parallelism
    # operations (core.logs, core.observability): log lines, and who may read /metrics
    log_format: str = "json"  # json: one JSON object per line (with the request id); text
    log_level: str = "INFO"
    metrics_token: str = ""  # a bearer token that opens /metrics from any address
    metrics_allow: str = "127.0.0.0/8,::1/128"  # addresses that may read /metrics without it
    testing: bool = False
    debug: bool = False

    @property
    def session_cookie_secure(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def mfa_roles(self) -> frozenset[str]:
        """The role names of ``CERT_MFA_REQUIRED_ROLES``."""
        return frozenset(name for name in self.mfa_required_roles.split(",") if name)

    @property
    def password_hashing(self) -> Parameters:
        """For :func:`core.auth.hashing.configure` (with ``testing``)."""
        return hashing.parameters(
            self.argon2_time_cost, self.argon2_memory_kib, self.argon2_parallelism
        )


# name of the environment variable → (field, parser)
DAY = 24 * 3600  # seconds

ENVIRONMENT: dict[str, tuple[str, Any]] = {
    "CERT_INSTANCE_DIR": ("instance_dir", _path),
    "CERT_DATABASE_URL": ("database_url", _database_url),
    "CERT_DATABASE_PASSWORD": ("database_password", _text),
    "CERT_SECRET_KEY": ("secret_key", _secret),
    "CERT_BASE_URL": ("base_url", _base_url),
    "CERT_SMTP_URL": ("smtp_url", _text),
    "CERT_MAIL_FROM": ("mail_from", _mail_from),
    "CERT_REFERENCE_PREFIX": ("reference_prefix", _prefix),
    "CERT_UPLOAD_DIR": ("upload_dir", _path),
    "CERT_MAX_UPLOAD_MB": ("max_upload_mb", _int_up_to(2048)),
    "CERT_RATELIMIT_STORAGE_URL": ("ratelimit_storage_url", _text),
    "CERT_LOGIN_RATE_LIMIT": ("login_rate_limit", _text),
    "CERT_SESSION_IDLE_MINUTES": ("session_idle_minutes", _int_up_to(24 * 60)),
    "CERT_SESSION_MAX_HOURS": ("session_max_hours", _int_up_to(31 * 24)),
    "CERT_PASSWORD_RESET_HOURS": ("password_reset_hours", _int_up_to(30 * 24)),
    "CERT_PROXY_COUNT": ("proxy_count", _int_up_to(5, minimum=0)),
    "CERT_OUTBOX_INTERVAL": ("outbox_interval_seconds", _int_up_to(DAY)),
    "CERT_OUTBOX_MAX_ATTEMPTS": ("outbox_max_attempts", _int_up_to(100)),
    "CERT_SCHEDULER_POLL_SECONDS": ("scheduler_poll_seconds", _seconds),
    "CERT_SCHEDULER_LOCK_KEY": ("scheduler_lock_key", _int_up_to(2**63 - 1)),
    "CERT_TIMEZONE": ("timezone", _timezone),
    "CERT_NAME": ("cert_name", _text),
    # "HH:MM", parsed (and refused naming the variable) by the bulletins slice's settings hook
    "CERT_BULLETIN_DIGEST_TIME": ("bulletin_digest_time", _text),
    "CERT_BULLETIN_DIGEST_WEEKDAY": ("bulletin_digest_weekday", _int_up_to(7)),
    "CERT_BULLETIN_DIGEST_INTERVAL": ("bulletin_digest_interval_seconds", _int_up_to(DAY)),
    "CERT_IMAP_URL": ("imap_url", _text),
    "CERT_IMAP_PASSWORD_ENV": ("imap_password_env", _env_name),
    "CERT_IMAP_DONE_FOLDER": ("imap_done_folder", _folder),
    "CERT_IMAP_INTERVAL": ("imap_interval_seconds", _int_up_to(DAY)),
    "CERT_IMAP_CA_FILE": ("imap_ca_file", _path),
    "CERT_MAIL_TRUSTED_AUTHSERV_ID": ("mail_trusted_authserv_id", _text),
    "CERT_MAIL_REQUIRE_AUTH": ("mail_require_auth", _flag),
    "CERT_MAIL_MAX_MB": ("mail_max_mb", _int_up_to(200)),
    # the slice's grammar: parsed, and refused with the variable named, by the incidents slice's
    # settings hook at start-up (incidents.settings.from_config); the kernel keeps the text
    "CERT_SLA_POLICY": ("sla_policy", _text),
    "CERT_DUPLICATE_WINDOW_DAYS": ("duplicate_window_days", _int_up_to(3650)),
    "CERT_IDEMPOTENCY_TTL_HOURS": ("idempotency_ttl_hours", _int_up_to(366 * 24)),
    "CERT_IDEMPOTENCY_PURGE_INTERVAL": ("idempotency_purge_interval_seconds", _int_up_to(DAY)),
    "CERT_JOB_RUNS_RETENTION_DAYS": ("job_runs_retention_days", _int_up_to(3650)),
    "CERT_API_WRITE_RATE_LIMIT": ("api_write_rate_limit", _rate_limit),
    "CERT_DB_LOCK_TIMEOUT_SECONDS": ("db_lock_timeout_seconds", _seconds_between(0.1, 600)),
    "CERT_DB_STATEMENT_TIMEOUT_SECONDS": (
        "db_statement_timeout_seconds",
        _seconds_between(1, 3600),
    ),
    "CERT_EVENTS_INTERVAL": ("events_interval_seconds", _int_up_to(3600)),
    "CERT_EVENTS_MAX_ATTEMPTS": ("events_max_attempts", _int_up_to(100)),
    "CERT_EVENTS_RETENTION_DAYS": ("events_retention_days", _int_up_to(3650)),
    "CERT_NOTIFY_MAIL_INTERVAL": ("notify_mail_interval_seconds", _int_up_to(DAY)),
    "CERT_NOTIFY_DIGEST_HOUR": ("notify_digest_hour", _int_up_to(23, minimum=0)),
    "CERT_NOTIFY_SLA_INTERVAL": ("notify_sla_interval_seconds", _int_up_to(DAY)),
    "CERT_NOTIFY_DUE_SOON_MINUTES": ("notify_due_soon_minutes", _int_up_to(7 * 24 * 60)),
    "CERT_ESCALATION_STEPS": ("escalation_steps", _text),
    "CERT_ESCALATION_PRIORITIES": ("escalation_priorities", _text),
    "CERT_FEEDS_POLL_INTERVAL": ("feeds_poll_interval_seconds", _int_up_to(DAY)),
    "CERT_FEEDS_TIMEOUT": ("feeds_timeout_seconds", _seconds),
    "CERT_FEEDS_MAX_MB": ("feeds_max_mb", _int_up_to(16 * 1024)),
    "CERT_FEEDS_ALLOW_PRIVATE": ("feeds_allow_private", _flag),
    "CERT_RETROHUNT_DAYS": ("retrohunt_days", _int_up_to(3650)),
    "CERT_PLAYBOOKS_INTERVAL": ("playbooks_interval_seconds", _int_up_to(3600)),
    "CERT_PLAYBOOK_SCHEDULES_INTERVAL": ("playbook_schedules_interval_seconds", _int_up_to(DAY)),
    "CERT_PLAYBOOK_MAX_STEPS": ("playbook_max_steps", _int_up_to(100_000)),
    "CERT_PLAYBOOK_MAX_DAYS": ("playbook_max_days", _int_up_to(3650)),
    # the slice's grammar (host[:port] list), parsed and refused naming the variable by the
    # playbooks slice's settings hook (playbooks.settings.from_config)
    "CERT_PLAYBOOK_HTTP_ALLOW": ("playbook_http_allow", _text),
    "CERT_PLAYBOOK_HTTP_TIMEOUT": ("playbook_http_timeout_seconds", _seconds_between(0.1, 300)),
    "CERT_MFA_REQUIRED_ROLES": ("mfa_required_roles", _roles),
    "CERT_OIDC_ISSUER": ("oidc_issuer", _text),
    "CERT_OIDC_CLIENT_ID": ("oidc_client_id", _text),
    "CERT_OIDC_CLIENT_SECRET_FILE": ("oidc_client_secret_file", _path),
    "CERT_OIDC_ROLE_CLAIM": ("oidc_role_claim", _text),
    "CERT_OIDC_ROLE_MAP": ("oidc_role_map", _text),
    "CERT_OIDC_PROVIDER_NAME": ("oidc_provider_name", _text),
    "CERT_OIDC_SCOPES": ("oidc_scopes", _text),
    "CERT_OIDC_LOCAL_PASSWORDS": ("oidc_local_passwords", _flag),
    "CERT_LOG_FORMAT": ("log_format", _choice("json", "text")),
    "CERT_LOG_LEVEL": ("log_level", _log_level),
    "CERT_METRICS_TOKEN": ("metrics_token", _secret),
    "CERT_METRICS_ALLOW": ("metrics_allow", _networks),
    "CERT_ARGON2_TIME_COST": ("argon2_time_cost", _int_up_to(100)),
    "CERT_ARGON2_MEMORY_KIB": ("argon2_memory_kib", _int_up_to(4 * 1024 * 1024, minimum=8)),
    "CERT_ARGON2_PARALLELISM": ("argon2_parallelism", _int_up_to(64)),
}


def load_config(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    create_secret: bool = True,
) -> Config:
    """Defaults ← ``CERT_*`` environment ← ``overrides`` (field names, used by tests).

    When no secret key is configured one is generated once and kept in ``instance/secret_key``.
    Every variable can instead name a file holding its value, ``<variable>_FILE`` (container
    secrets: ``CERT_SECRET_KEY_FILE=/run/secrets/secret_key``); setting both is refused.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for variable, (field_name, parser) in ENVIRONMENT.items():
        raw = _raw_value(env, variable)
        if raw is not None and raw != "":
            values[field_name] = parser(variable, raw)
    known = {f.name for f in fields(Config)}
    for key, value in (overrides or {}).items():
        if key not in known:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = value
    config = _derived(Config(**values), explicit_upload_dir="upload_dir" in values)
    problem = hashing.owasp_problem(
        config.argon2_time_cost, config.argon2_memory_kib, config.argon2_parallelism
    )
    if problem and not config.testing:
        raise ConfigError(f"CERT_ARGON2_TIME_COST / CERT_ARGON2_MEMORY_KIB: {problem}")
    if not config.secret_key:
        if not create_secret:
            raise ConfigError("CERT_SECRET_KEY: not set and no instance/secret_key file exists")
        config = replace(config, secret_key=_instance_secret(config.instance_dir))
    return config


def _raw_value(env: Mapping[str, str], variable: str) -> str | None:
    """The text of ``variable``, or of the file ``<variable>_FILE`` names."""
    raw, path = env.get(variable), env.get(f"{variable}_FILE")
    if not path:
        return raw
    if raw:
        raise ConfigError(f"{variable} and {variable}_FILE are both set: keep one")
    return read_secret_file(f"{variable}_FILE", path)


def _derived(config: Config, *, explicit_upload_dir: bool) -> Config:
    """The values that follow from others: default paths, the parsed SMTP and IMAP URLs."""
    if not explicit_upload_dir:
        config = replace(config, upload_dir=config.instance_dir / "uploads")
    if not config.database_url:
        config = replace(config, database_url=f"sqlite:///{config.instance_dir / 'vigie.db'}")
    if config.database_password:
        url = database_url_with_password(config.database_url, config.database_password)
        config = replace(config, database_url=url)
    config = replace(config, smtp=parse_smtp_url("CERT_SMTP_URL", config.smtp_url))
    if config.imap_url:
        config = replace(config, imap=parse_imap_url("CERT_IMAP_URL", config.imap_url))
    return config


def _instance_secret(instance_dir: Path) -> str:
    """Read ``instance/secret_key``, creating it (mode 0600) on first use."""
    path = instance_dir / "secret_key"
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    instance_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    return secret


__all__ = [
    "DAY",
    "DEFAULT_INSTANCE_DIR",
    "ENVIRONMENT",
    "Config",
    "ConfigError",
    "ImapSettings",
    "SmtpSettings",
    "load_config",
    "parse_imap_url",
    "parse_smtp_url",
]
