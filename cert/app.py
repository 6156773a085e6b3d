"""Composition root: ``create_app`` builds the web application from configuration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Flask, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from cert import accounts
from cert.observability import build_labels, leader_source
from cert.slices_list import SLICES
from core import api, logs, web
from core.auth import hashing, sso_config
from core.clock import Clock, SystemClock
from core.config import Config, load_config
from core.db import SessionFactory, make_engine, make_session_factory
from core.slices import Slice
from core.web import auth as web_auth
from core.web import metrics as web_metrics


def create_app(
    config: Config | Mapping[str, Any] | None = None,
    *,
    session_factory: SessionFactory | None = None,
    clock: Clock | None = None,
    api_blueprints: Sequence[Blueprint] = (),
    slices: Sequence[Slice] = SLICES,
) -> Flask:
    """Build the app. ``config`` is a :class:`Config` or a mapping of overrides (tests);
    ``api_blueprints`` are nested under ``/api/v1`` besides the slices' ones (tests); every
    domain-specific part comes from the ``slices`` manifests (:data:`cert.slices_list.SLICES`).

    Never migrates, seeds, touches the network or prompts: those are CLI commands.
    """
    settings = config if isinstance(config, Config) else load_config(config)
    hashing.configure(settings.password_hashing, testing=settings.testing)
    app = Flask("cert", instance_path=str(settings.instance_dir))
    if settings.proxy_count:
        # behind N reverse proxies, the client is the address the outermost one saw: rate limits,
        # the audit log and sign-in records then see people, not the proxy. With 0 (default) the
        # X-Forwarded-* headers are ignored, so a client cannot forge its address.
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        SESSION_COOKIE_NAME="vigie_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        PREFERRED_URL_SCHEME="https" if settings.session_cookie_secure else "http",
        JSON_SORT_KEYS=False,
    )
    if session_factory is None:
        # PostgreSQL: a locked table answers 503 instead of hanging the worker until killed
        limits = (settings.db_lock_timeout_seconds, settings.db_statement_timeout_seconds)
        engine = make_engine(settings.database_url, wait_limits=limits)
        session_factory = make_session_factory(engine)
    web.init_app(app, web.WebContext(session_factory, clock or SystemClock(), settings))
    web_auth.init_app(app)
    api.register(app, *(bp for slice_ in slices for bp in slice_.api), *api_blueprints)
    accounts.init_app(
        app,
        login_rate_limit=settings.login_rate_limit,
        sso_settings=sso_config.from_config(settings),
    )
    for slice_ in slices:
        slice_.init_app(app, settings)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
    sources = [*(s.metrics for s in slices if s.metrics is not None), leader_source(settings)]
    web_metrics.init_app(app, app.extensions["vigie"], sources, build_labels())
    if not settings.testing:  # a test's log lines stay with pytest, out of commands' output
        logs.configure(settings.log_format, "DEBUG" if settings.debug else settings.log_level)
    return app


def healthz() -> Response:
    """The process is up and serving requests."""
    return Response('{"status": "ok"}', mimetype="application/json")


def readyz() -> tuple[Response, int]:
    """The database answers; 503 otherwise."""
    try:
        web.get_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return Response(
            '{"status": "unavailable", "database": "unreachable"}', mimetype="application/json"
        ), 503
    return Response('{"status": "ok", "database": "ok"}', mimetype="application/json"), 200
