"""Fixtures of the single sign-on tests: the demo organisations the role map names, an
application configured for the loopback provider (``oidc_provider``), an English client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.identity.models import Organisation
from tests.cert.sso import kit
from tests.kit.oidc_provider import OidcProvider


@pytest.fixture
def organisations(db_session: Session, clock: FrozenClock) -> dict[str, Organisation]:
    return kit.organisations(db_session, clock)


@pytest.fixture
def app(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    oidc_provider: OidcProvider,
    tmp_path: Path,
    organisations: dict[str, Organisation],
) -> Flask:
    return kit.make_app(
        settings, session_factory, clock, **kit.sso_settings(oidc_provider, tmp_path)
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return kit.english_client(app)
