"""Who may read /metrics: the bearer token or an allowed address; everyone else gets the site's
ordinary 404, whatever the method, a wrong token or a forged X-Forwarded-For."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.clock import FrozenClock
from tests.cert.metrics.kit import TOKEN, parse

OUTSIDE = {"REMOTE_ADDR": "192.0.2.7"}
INSIDE = {"REMOTE_ADDR": "10.1.2.3"}


def get(client: FlaskClient, environ: dict[str, str], **headers: str) -> Any:
    return client.get("/metrics", headers=headers, environ_base=environ)


def test_the_token_opens_it_from_any_address(client: FlaskClient) -> None:
    response = get(client, OUTSIDE, Authorization=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert "vigie_database_up" in parse(response.get_data(as_text=True))
    assert "Set-Cookie" not in response.headers
    assert response.headers["X-Request-ID"]


def test_an_allowed_address_needs_no_token(client: FlaskClient) -> None:
    response = get(client, INSIDE)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_a_stranger_gets_the_ordinary_not_found_page(client: FlaskClient) -> None:
    refused = get(client, OUTSIDE)
    nothing = client.get("/metricz", environ_base=OUTSIDE)  # a page that does not exist
    assert refused.status_code == nothing.status_code == 404
    assert refused.get_data() == nothing.get_data().replace(b"/metricz", b"/metrics")
    assert "Set-Cookie" not in refused.headers


def test_a_wrong_or_malformed_token_is_refused(client: FlaskClient) -> None:
    for header in (f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, "Bearer "):
        assert get(client, OUTSIDE, Authorization=header).status_code == 404, header


def test_other_methods_do_not_reveal_it(client: FlaskClient) -> None:
    for method in ("post", "put", "delete", "patch", "options"):
        response = getattr(client, method)("/metrics", environ_base=OUTSIDE)
        assert response.status_code == 404, method
    assert client.post("/metrics", environ_base=INSIDE).status_code == 405


def test_a_forged_forwarded_for_is_ignored_without_proxies(client: FlaskClient) -> None:
    response = get(client, OUTSIDE, **{"X-Forwarded-For": "10.0.0.5"})
    assert response.status_code == 404


def test_behind_a_proxy_the_forwarded_address_counts(
    metrics_settings: dict[str, Any], session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    app: Flask = create_app(
        {**metrics_settings, "proxy_count": 1}, session_factory=session_factory, clock=clock
    )
    client = app.test_client()
    # the proxy (the peer) is outside the allowed networks; the client it reports is inside
    assert get(client, OUTSIDE, **{"X-Forwarded-For": "10.0.0.5"}).status_code == 200
    assert get(client, INSIDE, **{"X-Forwarded-For": "192.0.2.9"}).status_code == 404


def test_no_token_configured_means_addresses_only(
    metrics_settings: dict[str, Any], session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    app = create_app(
        {**metrics_settings, "metrics_token": "", "metrics_allow": "127.0.0.0/8,::1/128"},
        session_factory=session_factory,
        clock=clock,
    )
    client = app.test_client()
    assert get(client, OUTSIDE, Authorization="Bearer ").status_code == 404
    assert get(client, {"REMOTE_ADDR": "::ffff:127.0.0.1"}).status_code == 200
    assert get(client, {"REMOTE_ADDR": "::1"}).status_code == 200


def test_not_rate_limited_nor_in_the_api_document(client: FlaskClient) -> None:
    for _ in range(50):
        assert get(client, INSIDE).status_code == 200
    document = client.get("/api/v1/openapi.json").get_json()
    assert not any("metrics" in path for path in document["paths"])
