from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from cert.app import create_app


def test_healthz_answers_without_touching_the_database(tmp_path: Path) -> None:
    app = create_app(
        {
            "instance_dir": tmp_path,
            "secret_key": "k" * 40,
            "database_url": f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_a_reachable_database(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    app = create_app(
        {
            "instance_dir": tmp_path,
            "secret_key": "k" * 40,
            # a directory that does not exist: SQLite cannot open the file
            "database_url": f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}",
        }
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_security_headers_on_every_response(client: FlaskClient) -> None:
    response = client.get("/healthz")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
