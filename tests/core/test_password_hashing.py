"""Argon2 parameters: production defaults, OWASP's floor outside tests, rehash on change."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.profiles import CHEAPEST
from sqlalchemy.orm import Session

from core.auth import hashing
from core.auth import services as accounts
from core.clock import FrozenClock
from core.config import ConfigError, load_config
from tests.kit.factories import PASSWORD, make_user
from tests.kit.hashing import CHEAP, CHEAP_SETTINGS

OWASP_FLOOR = hashing.parameters(2, 19456, 1)


@pytest.fixture
def production() -> Iterator[None]:
    hashing.configure(hashing.PRODUCTION)
    yield
    hashing.configure(CHEAP, testing=True)


def test_the_production_default_is_what_password_hasher_used(tmp_path: Path) -> None:
    # hashes made before the setting existed are not rehashed in production
    assert PasswordHasher()._parameters == hashing.PRODUCTION  # noqa: SLF001
    defaults = load_config(environ={"CERT_INSTANCE_DIR": str(tmp_path)})
    assert defaults.password_hashing == hashing.PRODUCTION
    assert defaults.password_hashing.type is Type.ID


@pytest.mark.parametrize(
    ("time_cost", "memory_kib", "weak"),
    [(1, 47104, False), (2, 19456, False), (5, 7168, False), (3, 65536, False)]
    + [(1, 47103, True), (2, 19455, True), (4, 9215, True), (1, 8, True), (100, 7000, True)],
)
def test_owasp_minimum(time_cost: int, memory_kib: int, weak: bool) -> None:
    assert (hashing.owasp_problem(time_cost, memory_kib, 1) is not None) is weak


def test_weaker_than_owasp_is_refused_outside_tests(production: None) -> None:
    with pytest.raises(hashing.WeakParameters, match="below OWASP's minimum"):
        hashing.configure(CHEAP)
    with pytest.raises(hashing.WeakParameters, match="Argon2id only"):
        hashing.configure(dataclasses.replace(CHEAPEST, type=Type.I), testing=True)
    assert hashing.current() == hashing.PRODUCTION  # unchanged
    hashing.configure(OWASP_FLOOR)
    assert extract_parameters(hashing.hash_password(PASSWORD)) == OWASP_FLOOR


def test_the_settings_are_bounded(tmp_path: Path) -> None:
    env = {"CERT_INSTANCE_DIR": str(tmp_path), "CERT_SECRET_KEY": "k" * 32}
    custom = load_config(
        environ={**env, "CERT_ARGON2_TIME_COST": "2", "CERT_ARGON2_MEMORY_KIB": "19456"}
        | {"CERT_ARGON2_PARALLELISM": "1"}
    )
    assert custom.password_hashing == OWASP_FLOOR
    with pytest.raises(ConfigError) as err:
        load_config(environ={**env, "CERT_ARGON2_MEMORY_KIB": "8192"})
    assert str(err.value).startswith("CERT_ARGON2_TIME_COST") and "OWASP" in str(err.value)
    with pytest.raises(ConfigError, match="CERT_ARGON2_TIME_COST: must be greater than zero"):
        load_config(environ={**env, "CERT_ARGON2_TIME_COST": "0"})
    with pytest.raises(ConfigError, match="^CERT_ARGON2_MEMORY_KIB: .*to 4194304, got"):
        load_config(environ={**env, "CERT_ARGON2_MEMORY_KIB": str(2**40)})
    # the test suite's cheap costs: only with testing on
    with pytest.raises(ConfigError):
        load_config(CHEAP_SETTINGS, environ=env)
    assert load_config({**CHEAP_SETTINGS, "testing": True}, environ=env).password_hashing == CHEAP


def test_the_suite_hashes_cheaply(db_session: Session, clock: FrozenClock) -> None:
    user = make_user(db_session, clock)
    assert user.password_hash and extract_parameters(user.password_hash) == CHEAP


def test_the_dummy_hash_follows_the_parameters(production: None) -> None:
    # an unknown address costs what a known one costs: the same parameters
    assert not hashing.verify(None, PASSWORD)
    assert extract_parameters(hashing._dummy_hash()) == hashing.PRODUCTION  # noqa: SLF001
    hashing.configure(OWASP_FLOOR)
    assert not hashing.verify(None, PASSWORD)
    assert extract_parameters(hashing._dummy_hash()) == OWASP_FLOOR  # noqa: SLF001


def test_old_hashes_verify_and_are_rehashed_on_sign_in_only_when_the_parameters_changed(
    db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, email="rehash@example.gov.ma")
    old = PasswordHasher.from_parameters(OWASP_FLOOR).hash(PASSWORD)
    user.password_hash = old
    db_session.flush()
    signed_in = accounts.authenticate(db_session, user.email, PASSWORD, ip=None, clock=clock)
    assert signed_in is user and user.password_hash != old
    assert extract_parameters(user.password_hash) == CHEAP
    current = user.password_hash
    accounts.authenticate(db_session, user.email, PASSWORD, ip=None, clock=clock)
    assert user.password_hash == current  # same parameters: kept
