"""CERT_DATABASE_PASSWORD(_FILE): the PostgreSQL password kept out of CERT_DATABASE_URL (a
container secret shared with the database's own container), put into the URL by core.config."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from core.config import ConfigError, load_config

URL = "postgresql+psycopg://vigie@db.internal:5432/vigie"


def load(tmp_path: Path, **env: str) -> str:
    environ = {"CERT_SECRET_KEY": "k" * 40, "CERT_INSTANCE_DIR": str(tmp_path), **env}
    return load_config(environ=environ).database_url


def test_the_password_file_goes_into_the_url_escaped(tmp_path: Path) -> None:
    secret = tmp_path / "postgres_password"
    secret.write_text("p@ss:w/rd%?#\n")
    url = make_url(load(tmp_path, CERT_DATABASE_URL=URL, CERT_DATABASE_PASSWORD_FILE=str(secret)))
    assert url.password == "p@ss:w/rd%?#"
    assert (url.username, url.host, url.port, url.database) == (
        "vigie",
        "db.internal",
        5432,
        "vigie",
    )


def test_without_it_the_url_is_unchanged(tmp_path: Path) -> None:
    assert load(tmp_path, CERT_DATABASE_URL=URL) == URL


def test_a_password_in_both_places_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CERT_DATABASE_PASSWORD: CERT_DATABASE_URL carries"):
        load(
            tmp_path,
            CERT_DATABASE_URL="postgresql+psycopg://vigie:other@db/vigie",
            CERT_DATABASE_PASSWORD="secret",
        )


def test_sqlite_takes_no_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CERT_DATABASE_PASSWORD: only with a postgresql://"):
        load(tmp_path, CERT_DATABASE_PASSWORD="secret")  # the default SQLite file


def test_an_empty_password_file_is_refused_naming_it(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="CERT_DATABASE_PASSWORD_FILE: the file .* is empty"):
        load(tmp_path, CERT_DATABASE_URL=URL, CERT_DATABASE_PASSWORD_FILE=str(empty))


def test_the_password_stays_out_of_the_configuration_s_repr(tmp_path: Path) -> None:
    config = load_config(
        environ={
            "CERT_SECRET_KEY": "k" * 40,
            "CERT_INSTANCE_DIR": str(tmp_path),
            "CERT_DATABASE_URL": URL,
            "CERT_DATABASE_PASSWORD": "hunter2-very-secret",
        }
    )
    assert "database_password" not in repr(config)
