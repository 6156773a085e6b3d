"""What ``cert web`` tells gunicorn (cert/cli/gunicorn_setup.py), checked with gunicorn's own
request parser and logger: which peers may set the scheme and the routed path, and where its log
lines go."""

from __future__ import annotations

import json
import logging

import pytest
from gunicorn.config import Config as GunicornConfig
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser

from cert.cli.gunicorn_setup import gunicorn_options
from core.config import load_config

PEER = ("127.0.0.1", 50000)  # the proxy, or a client on the same host
FORGED = (
    b"GET /hidden/metrics HTTP/1.1\r\nHost: vigie\r\n"
    b"X-Forwarded-Proto: https\r\nSCRIPT_NAME: /hidden\r\n\r\n"
)


def gunicorn_config(proxy_count: int | None) -> GunicornConfig:
    """Gunicorn's settings as ``cert web`` sets them (``None``: gunicorn's defaults)."""
    cfg = GunicornConfig()
    if proxy_count is not None:
        config = load_config({"proxy_count": proxy_count, "secret_key": "k" * 40})
        for key, value in gunicorn_options(config).items():
            cfg.set(key, value)
    return cfg


def environ(cfg: GunicornConfig, raw: bytes = FORGED) -> dict[str, str]:
    request = next(iter(RequestParser(cfg, [raw], PEER)))
    _response, env = wsgi.create(request, None, PEER, ("127.0.0.1", 8000), cfg)
    return env


def test_without_a_proxy_no_peer_sets_the_scheme() -> None:
    env = environ(gunicorn_config(0))
    assert env["wsgi.url_scheme"] == "http"
    assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == ("", "/hidden/metrics")


def test_behind_a_proxy_the_scheme_follows_it_but_no_header_rewrites_the_path() -> None:
    """With CERT_PROXY_COUNT=1 gunicorn trusts any peer for X-Forwarded-Proto (ProxyFix sets
    the same from the same header), but a SCRIPT_NAME header never reroutes the request: a path
    the proxy refuses (/metrics here) cannot be reached as /hidden/metrics."""
    env = environ(gunicorn_config(1))
    assert env["wsgi.url_scheme"] == "https"
    assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == ("", "/hidden/metrics")


def test_what_trusting_every_peer_would_do_with_gunicorn_s_defaults() -> None:
    """Why ``forwarder_headers`` is emptied: with '*' alone the header moves the path."""
    cfg = gunicorn_config(None)
    cfg.set("forwarded_allow_ips", "*")
    env = environ(cfg)
    assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == ("/hidden", "/metrics")


def test_no_control_socket() -> None:
    assert gunicorn_config(0).control_socket_disable is True


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_gunicorn_s_log_lines_go_through_core_logs(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config({"log_format": log_format, "log_level": "INFO", "secret_key": "k" * 40})
    cfg = gunicorn_config(None)
    for key, value in gunicorn_options(config).items():
        cfg.set(key, value)
    cfg.set("errorlog", "-")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        logger = cfg.logger_class(cfg)
        logger.error("Can't connect to %s", ("127.0.0.1", 8000))
        logger.debug("not at INFO")
    finally:  # the root logger as it was: its handler wrote to this test's captured stderr
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("gunicorn.error").propagate = False
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    if log_format == "json":
        record = json.loads(err[0])
        assert record["logger"] == "gunicorn.error"
        assert record["level"] == "ERROR"
        assert record["message"] == "Can't connect to ('127.0.0.1', 8000)"
    else:
        assert "ERROR gunicorn.error [-] Can't connect to ('127.0.0.1', 8000)" in err[0]
