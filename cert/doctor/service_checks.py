"""``cert doctor``: the services Vigie talks to answer — SMTP (greeting and EHLO, STARTTLS and
login when configured; never a message), the rate limiter's storage, the IMAP mailbox and the
single sign-on provider when configured — and the upload directory and PDF fonts are there."""

from __future__ import annotations

import json
import os
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request
from dataclasses import replace

from cert.doctor.findings import Finding, ok, problem, warning
from core import imap
from core.auth import sso_config
from core.config import Config
from core.mailers import SmtpMailer

TIMEOUT = 5.0  # seconds for each network check


def smtp(config: Config) -> Finding:
    settings = replace(config.smtp, timeout=min(config.smtp.timeout, TIMEOUT))
    where = f"{settings.host}:{settings.port}"
    try:
        client = SmtpMailer(settings).connect()  # greeting, STARTTLS and login when configured
        try:
            code, _ = client.ehlo()
        finally:
            client.close()
    except smtplib.SMTPAuthenticationError as exc:
        return problem(
            "smtp", f"{where} refused the login ({exc.smtp_code})", "check CERT_SMTP_URL's user"
        )
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        return problem(
            "smtp",
            f"{where} does not answer as an SMTP server ({exc.__class__.__name__}: {exc})"[:300],
            "check CERT_SMTP_URL and that this host may reach the server; mail waits meanwhile",
        )
    if code != 250:
        return problem("smtp", f"{where} refused EHLO ({code})", "check the SMTP server")
    how = " with TLS" if settings.ssl or settings.starttls else ""
    login = f", signed in as {settings.username}" if settings.username else ""
    return ok("smtp", f"{where} answers{how}{login} (no message sent)")


def rate_limits(config: Config) -> Finding:
    url = config.ratelimit_storage_url
    if url == "memory://":
        return warning(
            "rate limits",
            "counted in each process's memory (memory://)",
            "with several workers or hosts set CERT_RATELIMIT_STORAGE_URL=redis://… so that"
            " limits are shared",
        )
    if not url.startswith(("redis://", "rediss://")):
        return ok("rate limits", f"storage {url.split('://')[0]}:// (not checked)")
    import redis

    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    try:
        client.ping()
    except redis.RedisError as exc:
        return problem(
            "rate limits",
            f"the Redis storage does not answer ({exc.__class__.__name__})",
            "check CERT_RATELIMIT_STORAGE_URL and the Redis server: limited routes fail without it",
        )
    finally:
        client.close()
    return ok("rate limits", "shared storage (Redis) answers")


def upload_dir(config: Config) -> Finding:
    directory = config.upload_dir
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".doctor-"):
            pass
    except OSError as exc:
        return problem(
            "uploads",
            f"{directory} is not writable ({exc.strerror or exc})",
            "create it and give the user running Vigie write access (CERT_UPLOAD_DIR)",
        )
    return ok("uploads", f"{directory} is writable")


def mailbox(config: Config) -> Finding | None:
    if config.imap is None:
        return None
    settings = replace(config.imap, timeout=min(config.imap.timeout, TIMEOUT))
    try:
        imap.probe(settings, ca_file=config.imap_ca_file)
    except imap.ImapError as exc:
        return problem("imap", str(exc), "check CERT_IMAP_URL (and CERT_IMAP_CA_FILE)")
    password = os.environ.get(config.imap_password_env)
    if not password:
        return warning(
            "imap",
            f"{settings.host}:{settings.port} answers; {config.imap_password_env} is empty here",
            f"set {config.imap_password_env} for the scheduler (the mailbox job signs in)",
        )
    return ok("imap", f"{settings.host}:{settings.port} answers (not signed in)")


def single_sign_on(config: Config) -> Finding | None:
    settings = sso_config.from_config(config)  # checked by the configuration's check
    if settings is None:
        return None
    try:
        with urllib.request.urlopen(settings.metadata_url, timeout=TIMEOUT) as response:  # noqa: S310 (https issuer)
            document = json.loads(response.read(1_000_000))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return problem(
            "single sign-on",
            f"{settings.metadata_url} cannot be read ({exc})"[:300],
            "check CERT_OIDC_ISSUER and that this host may reach the provider",
        )
    if not isinstance(document, dict) or document.get("issuer") != settings.issuer:
        return problem(
            "single sign-on",
            f"the discovery document does not name {settings.issuer} as its issuer",
            "set CERT_OIDC_ISSUER exactly as the provider names itself",
        )
    return ok("single sign-on", f"{settings.issuer} discovery document read")


def pdf_fonts() -> Finding:
    """The fonts WeasyPrint needs for PDF reports and bulletins: DejaVu Sans, and an Arabic one."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return warning(
            "pdf fonts", "fontconfig's fc-list is missing", "install fontconfig and fonts-dejavu"
        )
    found = subprocess.run(  # noqa: S603 (a fixed program and arguments)
        [fc_list, ":lang=ar", "family"], capture_output=True, text=True, timeout=20, check=False
    ).stdout
    latin = subprocess.run(  # noqa: S603
        [fc_list, "DejaVu Sans", "family"], capture_output=True, text=True, timeout=20, check=False
    ).stdout
    missing = [
        name for name, out in (("DejaVu Sans", latin), ("an Arabic font", found)) if not out.strip()
    ]
    if missing:
        return warning(
            "pdf fonts",
            f"no {' and no '.join(missing)} installed: PDF text may show as boxes",
            "install fonts-dejavu-core and fonts-noto-core (Noto Naskh Arabic)",
        )
    arabic = sorted({line.split(",")[0].strip() for line in found.splitlines() if line.strip()})
    return ok("pdf fonts", f"DejaVu Sans and Arabic ({', '.join(arabic[:2])}) installed")
