"""Password hashing (kernel: Flask-free): Argon2id with parameters chosen at start-up.

The production default is argon2-cffi's own (RFC 9106 "low memory": t=3, m=64 MiB, p=4), so
hashes made before these settings existed are not rehashed. The composition root may raise or
lower the cost with ``CERT_ARGON2_TIME_COST`` / ``CERT_ARGON2_MEMORY_KIB`` /
``CERT_ARGON2_PARALLELISM`` (:func:`core.config.load_config` validates them) and calls
:func:`configure`; nothing weaker than OWASP's Argon2id minimum is accepted unless ``testing``
is on (the test suite uses ``argon2.profiles.CHEAPEST``: signing in thousands of times).

A hash records its own parameters, so every existing hash keeps verifying whatever the
configuration; a successful sign-in rehashes a password whose hash was made with other
parameters (:func:`needs_rehash`), which only happens after the settings change.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import Parameters, PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

PRODUCTION = RFC_9106_LOW_MEMORY  # what ``PasswordHasher()`` used: existing hashes stay current

# OWASP Password Storage Cheat Sheet, Argon2id: equivalent (time cost, memory KiB) minimums
OWASP_MINIMUMS = ((1, 47104), (2, 19456), (3, 12288), (4, 9216), (5, 7168))


class WeakParameters(ValueError):
    """Argon2 parameters below OWASP's minimum, outside tests."""


def owasp_problem(time_cost: int, memory_kib: int, parallelism: int) -> str | None:
    """Why these Argon2id parameters are below OWASP's minimum, or ``None`` if they are not."""
    if parallelism < 1:
        return "parallelism must be at least 1"
    if memory_kib < 8 * parallelism:
        return "memory must be at least 8 KiB per lane"
    if not any(time_cost >= t and memory_kib >= m for t, m in OWASP_MINIMUMS):
        pairs = ", ".join(f"t={t} m={m}" for t, m in OWASP_MINIMUMS)
        return f"time cost {time_cost} with {memory_kib} KiB is below OWASP's minimum ({pairs})"
    return None


def parameters(time_cost: int, memory_kib: int, parallelism: int) -> Parameters:
    """Argon2id parameters with the production salt and hash lengths."""
    return Parameters(
        type=Type.ID,
        version=PRODUCTION.version,
        salt_len=PRODUCTION.salt_len,
        hash_len=PRODUCTION.hash_len,
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
    )


class _Configured:
    """The process's hasher: set once at start-up by :func:`configure`."""

    hasher = PasswordHasher.from_parameters(PRODUCTION)


def configure(params: Parameters, *, testing: bool = False) -> None:
    """Hash new passwords with ``params`` (called once by the composition root).

    Refuses anything but Argon2id, and parameters below OWASP's minimum unless ``testing``.
    """
    if params.type is not Type.ID:
        raise WeakParameters(f"Argon2id only, not {params.type.name}")
    problem = owasp_problem(params.time_cost, params.memory_cost, params.parallelism)
    if problem and not testing:
        raise WeakParameters(problem)
    if params != current():
        _Configured.hasher = PasswordHasher.from_parameters(params)
        _dummy_hash.cache_clear()


def current() -> Parameters:
    """The parameters new hashes are made with."""
    return _Configured.hasher._parameters  # noqa: SLF001 (argon2-cffi has no public getter)


def hash_password(password: str) -> str:
    return _Configured.hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    """Checked when the e-mail is unknown, so timing does not reveal which accounts exist.

    Made with the current parameters (the cache is cleared by :func:`configure`), so it costs
    what a real account's check costs.
    """
    return _Configured.hasher.hash(secrets.token_urlsafe(16))


def verify(password_hash: str | None, password: str) -> bool:
    """Argon2 check; no hash (unknown user, no password) is checked against a dummy one."""
    try:
        return bool(_Configured.hasher.verify(password_hash or _dummy_hash(), password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Was this hash made with other parameters than the configured ones?"""
    return _Configured.hasher.check_needs_rehash(password_hash)
