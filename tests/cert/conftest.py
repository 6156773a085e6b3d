"""Fixtures of the kernel tests: an outbox session factory and a live SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import sessionmaker

from cert.db import SessionFactory
from tests.cert.smtp_server import SmtpServer, smtp_server
from tests.dbs import TestDatabase


@pytest.fixture
def factory(fresh_database: TestDatabase) -> SessionFactory:
    return sessionmaker(bind=fresh_database.engine, expire_on_commit=False)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server
