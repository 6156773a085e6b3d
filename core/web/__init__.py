"""Web kit: per-request database session, error pages, DomainError → HTTP, an unreachable
database → 503, security headers, CSRF, languages (Flask-Babel), rate limits and list pagination.

Adapters (views, API blueprints) use these helpers; this module never imports domain packages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, jsonify, render_template, request, session
from flask_babel import Babel, get_locale
from flask_babel import gettext as _gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user  # type: ignore[import-untyped]
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import Select, func, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import IntegerConverter, Map

from core import inputs
from core.clock import Clock
from core.db import SessionFactory
from core.errors import DomainError, ValidationFailed
from core.i18n import DEFAULT_LOCALE, LOCALES, RTL_LOCALES, TRANSLATIONS_DIR, localise
from core.uow import UnitOfWork
from core.web.limits import LocalStorage as LocalStorage  # re-exported: the web kit's names
from core.web.limits import init_limiter
from core.web.limits import limiter_storage_uri as limiter_storage_uri
from core.web.limits import rate_limit as rate_limit
from core.web.panels import init_app as init_panels
from core.web.request_ids import init_app as init_request_ids
from core.web.times import init_app as init_times

log = logging.getLogger(__name__)
T = TypeVar("T")

csrf = CSRFProtect()
babel = Babel()
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "ar": "العربية"}  # each in its own language
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
CSRF_TIME_LIMIT = 4 * 3600  # a form stays valid for half a working day
RETRY_AFTER_SECONDS = 30  # advertised with 503 when the database is unreachable
FTS_ERRORS = ("fts5:", "unterminated string")  # SQLite's full-text search refusing a query


@dataclass(frozen=True)
class WebContext:
    """What adapters need from the composition root, stored in ``app.extensions["vigie"]``."""

    session_factory: SessionFactory
    clock: Clock
    settings: Any  # core.config.Config; typed loosely so the web kit does not import the root


def context() -> WebContext:
    ctx: WebContext = current_app.extensions["vigie"]
    return ctx


def unit_of_work() -> UnitOfWork:
    """The request's unit of work (:class:`core.uow.UnitOfWork`), opened on first use and closed
    at teardown, which rolls back anything the view did not commit. Its ``actor`` is filled in by
    :func:`core.web.auth.current_actor`; its ``settings`` are the slices' (``app.extensions``)."""
    if "uow" not in g:
        ctx = context()
        g.uow = UnitOfWork(
            ctx.session_factory(), ctx.clock, ctx.settings, settings=current_app.extensions
        )
    uow: UnitOfWork = g.uow
    return uow


def get_session() -> Session:
    """The request's session: its unit of work's."""
    return unit_of_work().session


def _rollback() -> None:
    """Roll back the request's work, if it has begun any."""
    uow: UnitOfWork | None = g.get("uow")
    if uow is not None:
        uow.rollback()


def close_session(_exc: BaseException | None = None) -> None:
    uow: UnitOfWork | None = g.pop("uow", None)
    if uow is not None:
        uow.close()  # rolls back anything the view did not commit


# ---------------------------------------------------------------- security headers
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


# ---------------------------------------------------------------- errors
ERROR_TEXTS = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    401: (_l("Authentication required"), _l("Sign in to continue.")),
    403: (_l("Access denied"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("This page does not exist or is no longer available.")),
    405: (_l("Method not allowed"), _l("This address does not accept this kind of request.")),
    409: (_l("Conflict"), _l("This change conflicts with the current state of the data.")),
    413: (_l("Request too large"), _l("The data sent is larger than the allowed size.")),
    415: (_l("Unsupported format"), _l("The data sent is not in a format this address accepts.")),
    422: (_l("Invalid data"), _l("Some of the data sent is invalid.")),
    429: (
        _l("Too many attempts"),
        _l("Too many requests came from your address. Wait a minute, then try again."),
    ),
    500: (_l("Internal error"), _l("Something went wrong on our side. The error has been logged.")),
}
CSRF_TEXT = _l("This form has expired or is invalid. Go back, reload the page and try again.")


def say(text: str) -> str:
    """A service's reason (a ``core.errors.Message`` or an ``N_`` phrase) in the page's
    language; other text as it is."""
    return localise(text, _gettext)


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json"
    )


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    *,
    explanation: object | None = None,
) -> tuple[Response, int]:
    """The JSON envelope under /api (or when JSON is preferred), else a translated HTML page."""
    if wants_json():
        body = {"error": {"code": code, "message": message, "fields": fields or {}}}
        return jsonify(body), status
    title, text = ERROR_TEXTS.get(status, ERROR_TEXTS[500 if status >= 500 else 400])
    page = render_template(
        "errors/error.html", status=status, title=title, explanation=explanation or text
    )
    return Response(page, status, mimetype="text/html"), status


def _domain_error(exc: DomainError) -> tuple[Response, int]:
    return error_response(exc.status, exc.code, exc.message, exc.fields)


def _http_error(exc: HTTPException) -> tuple[Response, int]:
    code = (exc.name or "error").lower().replace(" ", "_")
    response = error_response(exc.code or 500, code, exc.description or exc.name)
    if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        response[0].headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


def _csrf_error(exc: CSRFError) -> tuple[Response, int]:
    return error_response(400, "csrf_failed", exc.description or "", explanation=CSRF_TEXT)


def _unexpected(exc: Exception) -> tuple[Response, int]:
    log.exception("unhandled error on %s %s", request.method, request.path)
    _rollback()  # the error page may need the database (current user)
    try:
        return error_response(500, "internal_error", "Internal error; it has been logged.")
    except Exception:  # the error page itself failed: answer without templates
        log.exception("the error page failed too")
        return Response("Internal error", 500, mimetype="text/plain"), 500


# PostgreSQL SQLSTATEs of a request that ran out of time: lock_timeout, statement_timeout
TIMED_OUT = frozenset({"55P03", "57014"})


def _timed_out(exc: Exception) -> bool:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in TIMED_OUT


def _database_unavailable(exc: Exception) -> tuple[Response, int]:
    """Lost or refused database connections, pool time-outs and PostgreSQL lock waits or
    statements that ran out of time (``CERT_DB_LOCK_TIMEOUT_SECONDS``,
    ``CERT_DB_STATEMENT_TIMEOUT_SECONDS``) → 503 with ``Retry-After``.

    The request's transaction is rolled back first, so a request that fails half-way leaves
    nothing behind. Other driver errors (integrity, programming) are bugs: 500.
    """
    if _timed_out(exc):  # explicit: the driver may not always class them as operational
        log.warning("database busy on %s %s: %s", request.method, request.path, exc)
    elif isinstance(exc, DBAPIError) and not (
        isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated
    ):
        return _unexpected(exc)
    elif isinstance(exc, OperationalError) and str(exc.orig).startswith(FTS_ERRORS):
        # SQLite-specific: the search engine refused a query; the database is fine
        log.warning("search syntax refused on %s %s: %s", request.method, request.path, exc.orig)
        _rollback()
        return error_response(
            422, "invalid_search", "The search text could not be understood.",
            {"q": "not a search this engine understands; try plain words"},
        )  # fmt: skip
    else:
        log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
    uow: UnitOfWork | None = g.pop("uow", None)
    if uow is not None:
        try:
            uow.rollback()
            uow.close()
        except SQLAlchemyError:  # the connection is gone: nothing was committed anyway
            log.warning("rollback after a database failure failed too", exc_info=True)
    try:
        response, status = error_response(
            503, "database_unavailable", "The database is unavailable; retry later."
        )
    except Exception:  # an HTML error page may itself need the database
        response, status = Response("Service unavailable", 503, mimetype="text/plain"), 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status


# ---------------------------------------------------------------- languages
def select_locale() -> str:
    """``?lang=`` choice kept in the session → the user's preference → Accept-Language → fr."""
    chosen = session.get("lang")
    if chosen in LOCALES:
        return str(chosen)
    preferred = getattr(current_user, "locale", None)  # a signed-in user's preference
    if preferred in LOCALES:
        return str(preferred)
    return request.accept_languages.best_match(LOCALES) or DEFAULT_LOCALE


def remember_language() -> None:
    """A ``?lang=xx`` query on any page switches the interface language for the session."""
    lang = request.args.get("lang")
    if lang in LOCALES:
        session["lang"] = lang


def language_url(code: str) -> str:
    """The current page in language ``code`` (other query arguments kept)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return f"{request.path}?{urlencode([*args, ('lang', code)])}"


def _template_globals() -> dict[str, Any]:
    locale = str(get_locale() or DEFAULT_LOCALE)
    return {
        "locale": locale,
        "rtl": locale in RTL_LOCALES,
        "languages": [(code, LANGUAGE_NAMES[code], language_url(code)) for code in LOCALES],
    }


# ---------------------------------------------------------------- pagination
@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list filtered and sorted in SQL."""

    items: list[T]
    total: int
    limit: int
    offset: int

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total

    @property
    def number(self) -> int:
        return self.offset // self.limit + 1


def fetch_page(query: Select[T], *, limit: int, offset: int) -> Page[T]:
    """Count the whole query, then fetch ``limit`` rows from ``offset`` (query must be ordered)."""
    session = get_session()
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(session.scalars(query.limit(limit).offset(offset)))
    return Page(items, total or 0, limit, offset)


def page_number() -> int:
    """``?page=N`` of an HTML list: 1 when absent or empty, 422 when not a page number."""
    return int_arg("page", low=1, high=inputs.MAX_PAGE) or 1


def int_arg(name: str, *, low: int, high: int) -> int | None:
    """The query argument ``name`` as a bounded whole number (:func:`core.inputs.whole_number`;
    ``None`` when absent or empty), or 422 naming it. Every ``?page=``, ``?before=`` and
    ``?offset=`` goes through here or through the API kit's ``page_params``."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return None
    try:
        return inputs.whole_number(raw, low, high)
    except ValueError as exc:
        raise ValidationFailed(f"invalid {name}", fields={name: str(exc)}) from None


class RowId(IntegerConverter):
    """``<int:…>`` of every route: ASCII digits only (Werkzeug's ``\\d`` also matches ``١٠``),
    at most :data:`core.inputs.MAX_ID` (PostgreSQL's integer); anything else is a 404."""

    regex = r"[0-9]+"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", inputs.MAX_ID)
        super().__init__(map, *args, **kwargs)


# ---------------------------------------------------------------- untrusted text
def refuse_nul() -> None:
    """No NUL character in the path (404), query arguments, form fields or uploaded file names
    (422 naming the field): PostgreSQL cannot store one and SQLite would store it as it is, so
    both databases answer alike. JSON bodies are checked by the API kit's ``parse_json``."""
    if inputs.NUL in request.path:
        raise NotFound()
    pairs: list[tuple[object, object]] = list(request.args.items(multi=True))
    if request.method not in {"GET", "HEAD", "OPTIONS"} and request.mimetype in FORM_TYPES:
        pairs += request.form.items(multi=True)
        pairs += [(name, file.filename) for name, file in request.files.items(multi=True)]
    bad = [str(name) for name, value in pairs if inputs.NUL in f"{name}{value}"]
    if bad:
        fields = {name.replace(inputs.NUL, "\\u0000"): inputs.NUL_MESSAGE for name in bad}
        raise ValidationFailed("NUL characters are not accepted", fields=fields)


# ---------------------------------------------------------------- set-up
def init_app(app: Flask, ctx: WebContext) -> None:
    """Session, errors, security headers, CSRF, languages and the rate limiter of ``app``."""
    app.extensions["vigie"] = ctx
    app.url_map.converters["int"] = RowId  # before any route is added
    init_request_ids(app)  # first: everything after runs with the request id bound
    app.teardown_appcontext(close_session)
    app.after_request(security_headers)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DBAPIError, _database_unavailable)
    app.register_error_handler(PoolTimeout, _database_unavailable)
    app.register_error_handler(Exception, _unexpected)
    app.config.update(
        WTF_CSRF_ENABLED=True,  # always, tests included: they fetch and send the token
        WTF_CSRF_TIME_LIMIT=CSRF_TIME_LIMIT,
        BABEL_DEFAULT_LOCALE=DEFAULT_LOCALE,
        BABEL_DEFAULT_TIMEZONE=ctx.settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS_DIR),  # the product's catalogues, in core
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(refuse_nul)
    app.before_request(remember_language)
    app.context_processor(_template_globals)
    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.globals["say"] = say
    app.jinja_env.tests["placed"] = placed
    init_times(app)
    init_panels(app)
    init_limiter(app, ctx.settings.ratelimit_storage_url)


def placed(category: str) -> bool:
    """A flash shown by its page next to an element (``success:<id>``), not at the top."""
    return ":" in category


def page_url(**changes: object) -> str:
    """The current list URL with some query arguments changed (``None`` removes one)."""
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k not in changes}
    args.update({k: v for k, v in changes.items() if v is not None})
    return f"{request.path}?{urlencode(args)}" if args else request.path
