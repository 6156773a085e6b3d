"""The incidents slice's settings (``incidents.settings.from_config``, the manifest's settings
hook): ``CERT_SLA_POLICY`` is parsed there, once, and a bad one stops start-up — the web
application's and every ``cert`` command's — with one line naming the variable and the bad part."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from cert.app import create_app
from cert.cli import CliContext, cli, load_commands
from core.config import ConfigError, load_config
from incidents.rules.priority import DEFAULT_SLA, Priority, SlaTarget
from incidents.settings import from_config
from incidents.slice import SLICE
from tests.kit.config import env

BAD_POLICIES = [
    ("P1=1h", "invalid SLA entry 'P1=1h'"),
    ("P9=1h/2h", "invalid SLA entry 'P9=1h/2h'"),
    ("P1=99999999999d/1d", "invalid SLA entry 'P1=99999999999d/1d'"),
    ("P1=1h/24h,P2=٤h/3d", "invalid SLA entry 'P2=٤h/3d'"),  # Arabic-Indic digit
    ("P1=48h/24h", "invalid SLA entry 'P1=48h/24h': resolve time before acknowledge time"),
    (",", "invalid SLA policy ','"),
]


def test_the_policy_is_parsed_by_the_slice_settings(tmp_path: Path) -> None:
    config = load_config(environ=env(tmp_path, CERT_SLA_POLICY="P1=30m/12h, p4=5d/60d"))
    policy = from_config(config).sla_policy
    assert policy[Priority.P1] == SlaTarget(dt.timedelta(minutes=30), dt.timedelta(hours=12))
    assert policy[Priority.P4] == SlaTarget(dt.timedelta(days=5), dt.timedelta(days=60))
    assert policy[Priority.P2] == DEFAULT_SLA[Priority.P2]
    assert from_config(load_config(environ=env(tmp_path))).sla_policy == DEFAULT_SLA
    assert SLICE.settings is from_config  # built by the manifest's hook at start-up


@pytest.mark.parametrize(("value", "message"), BAD_POLICIES)
def test_a_bad_policy_stops_the_web_application_naming_the_variable(
    tmp_path: Path, value: str, message: str
) -> None:
    config = load_config(environ=env(tmp_path, CERT_SLA_POLICY=value))
    with pytest.raises(ConfigError) as err:
        create_app(config)
    text = str(err.value)
    assert text.startswith(f"CERT_SLA_POLICY: {message}") and "\n" not in text


@pytest.mark.parametrize(("value", "message"), BAD_POLICIES)
def test_a_bad_policy_stops_any_cert_command(tmp_path: Path, value: str, message: str) -> None:
    load_commands()
    environ = env(tmp_path, CERT_SLA_POLICY=value, CERT_SECRET_KEY="s" * 40)
    result = CliRunner().invoke(cli, ["jobs", "list"], env=environ, obj=CliContext())
    assert isinstance(result.exception, ConfigError)  # `cert` prints it as one line, status 2
    assert str(result.exception).startswith(f"CERT_SLA_POLICY: {message}")
    assert not (tmp_path / "vigie.db").exists()  # stopped before touching the database
