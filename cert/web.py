"""Web kit: per-request database session, error pages, DomainError → HTTP, security headers.

Adapters (views, API blueprints) use these helpers; this module never imports domain packages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from cert.clock import Clock
from cert.db import SessionFactory
from cert.errors import DomainError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebContext:
    """What adapters need from the composition root, stored in ``app.extensions["vigie"]``."""

    session_factory: SessionFactory
    clock: Clock
    settings: Any  # cert.config.Config; typed loosely so the web kit does not import the root


def context() -> WebContext:
    ctx: WebContext = current_app.extensions["vigie"]
    return ctx


def get_session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = context().session_factory()
    session: Session = g.db_session
    return session


def close_session(_exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back anything the view did not commit


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json"
    )


def error_response(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> Any:
    if wants_json():
        body = {"error": {"code": code, "message": message, "fields": fields or {}}}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message), status


def _domain_error(exc: DomainError) -> Any:
    return error_response(exc.status, exc.code, exc.message, exc.fields)


def _http_error(exc: HTTPException) -> Any:
    code = (exc.name or "error").lower().replace(" ", "_")
    response = error_response(exc.code or 500, code, exc.description or exc.name)
    if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        response[0].headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


def _unexpected(exc: Exception) -> Any:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "Internal error; it has been logged.")


def init_app(app: Flask, ctx: WebContext) -> None:
    app.extensions["vigie"] = ctx
    app.teardown_appcontext(close_session)
    app.after_request(security_headers)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
