"""Helpers of the ``cert doctor`` tests: an installation's environment and the finding of one
check."""

from __future__ import annotations

import random
from pathlib import Path

import redis

from cert.doctor import Finding, examine

REDIS_URL = "redis://127.0.0.1:6379/6"  # this suite's Redis database (flushed by nobody else)


def environment(database_url: str, tmp_path: Path, smtp_url: str, **extra: str) -> dict[str, str]:
    """A production-like installation: https, an explicit secret, Redis for the rate limits."""
    return {
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_DATABASE_URL": database_url,
        "CERT_SECRET_KEY": "k" * 48,
        "CERT_BASE_URL": "https://vigie.cert.example",
        "CERT_SMTP_URL": smtp_url,
        "CERT_RATELIMIT_STORAGE_URL": REDIS_URL,
        "CERT_SCHEDULER_LOCK_KEY": str(random.randint(1, 2**62)),
        **extra,
    }


def finding(findings: list[Finding], check: str) -> Finding:
    found = [f for f in findings if f.check == check]
    assert len(found) == 1, (check, findings)
    return found[0]


def check(environ: dict[str, str], name: str) -> Finding:
    return finding(examine(environ), name)


def redis_answers() -> bool:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        return bool(client.ping())
    finally:
        client.close()
