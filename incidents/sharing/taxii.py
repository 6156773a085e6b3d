"""Vigie's TAXII 2.1 server (read-only), blueprint ``taxii`` at ``/taxii2/`` (outside /api/v1).

Discovery ``/taxii2/``, one API root ``/taxii2/vigie/``, its collections (one per sharing level,
:mod:`incidents.sharing.collections`), each with ``objects/`` (``limit``/``next``,
``added_after``, ``match[type|id|version|spec_version]``), ``manifest/``, ``objects/<id>/`` and
``objects/<id>/versions/``; ``X-TAXII-Date-Added-First``/``-Last`` on pages. Every answer is
``application/taxii+json;version=2.1``; errors are TAXII error messages (``title``,
``description``, ``http_status``).

Authentication on every request, token only: ``Authorization: Basic`` with the account's e-mail
and an API token as the password, or ``Authorization: Bearer <token>`` (``Token <token>``, as
taxii2-client's ``TokenAuth`` sends it, is the same); no credentials or bad
ones → 401 with ``WWW-Authenticate``. Session cookies are never read (:func:`token_only`), hence
no CSRF protection is needed. Then ``Accept`` must allow TAXII 2.1 JSON (406). The collections
are not writable: adding or deleting objects is 403 (for a read-only token, whose requests may
only be GET, HEAD or OPTIONS, any other method is 403 whatever the path).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, g, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from core.auth import tokens
from core.db import is_postgres
from core.errors import AuthenticationFailed, DomainError
from core.identity.centres import scope_of
from core.web import context, csrf, get_session, unit_of_work
from core.web.auth import token_only, use_api_user
from incidents.sharing import stix_objects as so
from incidents.sharing.collections import (
    COLLECTIONS,
    Entry,
    TaxiiCollection,
    find_collection,
    read_page,
)
from incidents.sharing.shareable import Audience
from incidents.sharing.stix_objects import precise
from incidents.sharing.taxii_params import (
    STIX_MEDIA,
    TAXII_MEDIA,
    BadParameter,
    Query,
    accepts_taxii,
    parse_query,
)

bp = token_only(Blueprint("taxii", __name__, url_prefix="/taxii2"))
csrf.exempt(bp)  # no cookie is ever accepted here: nothing to forge
ROOT = "vigie"
CHALLENGE = 'Basic realm="vigie-taxii", charset="UTF-8", Bearer realm="vigie-taxii"'
MAX_CONTENT_LENGTH = 10 * 1024 * 1024


class TaxiiError(Exception):
    def __init__(self, status: int, title: str, description: str = "") -> None:
        super().__init__(title)
        self.status, self.title, self.description = status, title, description


def reply(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    response = Response(orjson.dumps(body), status, content_type=TAXII_MEDIA)
    response.headers.update(headers or {})
    return response


def _error(exc: TaxiiError) -> Response:
    body = {"title": exc.title, "description": exc.description, "http_status": str(exc.status)}
    response = reply(body, exc.status)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = CHALLENGE
    return response


def _http_error(exc: HTTPException) -> Response:
    return _error(TaxiiError(exc.code or 500, exc.name, exc.description or ""))


def _domain_error(exc: DomainError) -> Response:
    return _error(TaxiiError(exc.status, exc.code.replace("_", " "), exc.message))


bp.register_error_handler(TaxiiError, _error)
bp.register_error_handler(HTTPException, _http_error)
bp.register_error_handler(DomainError, _domain_error)


# ---------------------------------------------------------------- every request
def _credentials() -> tuple[str | None, str]:
    """(e-mail or None, token) from the ``Authorization`` header; 401 without usable ones."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in {"bearer", "token"} and value.strip():  # taxii2-client's TokenAuth
        return None, value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            email, colon, secret = (
                base64.b64decode(value.strip(), validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            email, colon, secret = "", "", ""
        if colon and email and secret:
            return email, secret
    raise TaxiiError(401, "Authentication required", "HTTP Basic (e-mail and API token) or Bearer")


@bp.before_request
def authenticate() -> None:
    email, secret = _credentials()
    uow, clock = unit_of_work(), context().clock
    try:
        found = tokens.authenticate_token(uow.session, secret, clock=clock)
        if uow.session.dirty and not is_postgres(uow.session):  # SQLite: re-do it as a writer
            uow.rollback()
            uow.write()
            found = tokens.authenticate_token(uow.session, secret, clock=clock)
    except AuthenticationFailed:
        raise TaxiiError(401, "Authentication failed", "invalid or revoked API token") from None
    user = found.user
    if email is not None and not hmac.compare_digest(
        email.strip().lower().encode(), user.email.encode()
    ):
        raise TaxiiError(401, "Authentication failed", "this token is not this account's")
    uow.commit()  # the token's last use, if it changed; ends the read either way
    if not tokens.allows(found.scope, request.method):
        raise TaxiiError(403, "Forbidden", tokens.READ_ONLY_MESSAGE)
    use_api_user(user)
    centres = scope_of(uow.session, user) if user.is_cert_staff else None
    g.taxii_audience = Audience(user.is_cert_staff, user.organisation_id, centres)
    if not accepts_taxii(request.headers.get("Accept", "")):
        raise TaxiiError(406, "Not acceptable", f"send Accept: {TAXII_MEDIA}")


def _audience() -> Audience:
    audience: Audience = g.taxii_audience
    return audience


def _collection(ident: str) -> TaxiiCollection:
    found = find_collection(ident)
    if found is None:
        raise TaxiiError(404, "Collection not found", f"no collection {ident}")
    return found


def _query() -> Query:
    try:
        return parse_query(request.args.to_dict(flat=False))
    except BadParameter as exc:
        raise TaxiiError(400, "Bad request", str(exc)) from None


def _page(ident: str, query: Query) -> tuple[list[Entry], bool]:
    page = read_page(get_session(), _audience(), _collection(ident), query, producer=_producer())
    unit_of_work().rollback()  # a read: end it
    return page.entries, page.more


def _producer() -> so.Producer:
    settings = context().settings
    return so.Producer(settings.reference_prefix, settings.cert_name)


def _dates(entries: list[Entry]) -> dict[str, str]:
    if not entries:
        return {}
    return {
        "X-TAXII-Date-Added-First": precise(entries[0].date_added),
        "X-TAXII-Date-Added-Last": precise(entries[-1].date_added),
    }


# ---------------------------------------------------------------- discovery and API root
@bp.get("/")
def discovery() -> ResponseReturnValue:
    root = url_for(".api_root", _external=True)
    return reply({
        "title": "Vigie TAXII server",
        "description": "Indicators, sightings and bulletins shared by the CERT, never beyond TLP.",
        "default": root,
        "api_roots": [root],
    })  # fmt: skip


@bp.get(f"/{ROOT}/")
def api_root() -> ResponseReturnValue:
    return reply({
        "title": "Vigie",
        "description": "One collection per sharing level: TLP:CLEAR, GREEN, AMBER, AMBER+STRICT.",
        "versions": [TAXII_MEDIA],
        "max_content_length": MAX_CONTENT_LENGTH,
    })  # fmt: skip


def _describe(collection: TaxiiCollection) -> dict[str, Any]:
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "alias": collection.alias,
        "can_read": True,
        "can_write": False,
        "media_types": [STIX_MEDIA],
    }


@bp.get(f"/{ROOT}/collections/")
def collections() -> ResponseReturnValue:
    return reply({"collections": [_describe(c) for c in COLLECTIONS]})


@bp.get(f"/{ROOT}/collections/<ident>/")
def collection(ident: str) -> ResponseReturnValue:
    return reply(_describe(_collection(ident)))


# ---------------------------------------------------------------- objects
@bp.route(f"/{ROOT}/collections/<ident>/objects/", methods=["GET", "POST"])
def objects(ident: str) -> ResponseReturnValue:
    _collection(ident)
    if request.method == "POST":
        raise TaxiiError(403, "Forbidden", "this collection is read-only (can_write: false)")
    entries, more = _page(ident, _query())
    return reply(_envelope(entries, more), headers=_dates(entries))


def _envelope(entries: list[Entry], more: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"more": more}
    if more:
        body["next"] = entries[-1].cursor.token()
    if entries:
        body["objects"] = [e.obj for e in entries]
    return body


@bp.get(f"/{ROOT}/collections/<ident>/manifest/")
def manifest(ident: str) -> ResponseReturnValue:
    entries, more = _page(ident, _query())
    body: dict[str, Any] = {"more": more}
    if more:
        body["next"] = entries[-1].cursor.token()
    if entries:
        body["objects"] = [
            {"id": e.obj["id"], "date_added": precise(e.date_added), "version": e.version,
             "media_type": STIX_MEDIA}
            for e in entries
        ]  # fmt: skip
    return reply(body, headers=_dates(entries))


@bp.route(f"/{ROOT}/collections/<ident>/objects/<object_id>/", methods=["GET", "DELETE"])
def one_object(ident: str, object_id: str) -> ResponseReturnValue:
    _collection(ident)
    if request.method == "DELETE":
        raise TaxiiError(403, "Forbidden", "this collection is read-only (can_write: false)")
    entries, more = _page(ident, _query().with_id(object_id))
    if not entries and not more:
        raise TaxiiError(404, "Object not found", f"no object {object_id} here for you")
    return reply(_envelope(entries, more), headers=_dates(entries))


@bp.get(f"/{ROOT}/collections/<ident>/objects/<object_id>/versions/")
def versions(ident: str, object_id: str) -> ResponseReturnValue:
    entries, _ = _page(ident, _query().with_id(object_id).every_version())
    if not entries:
        raise TaxiiError(404, "Object not found", f"no object {object_id} here for you")
    return reply({"more": False, "versions": [e.version for e in entries]}, headers=_dates(entries))


# ---------------------------------------------------------------- anything else
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def elsewhere(rest: str) -> ResponseReturnValue:
    """Unknown paths (404) and known ones asked with another method (405), as TAXII errors."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _ = adapter.match(method="GET")
    except (NotFound, MethodNotAllowed):
        endpoint = None
    if endpoint is not None and endpoint != "taxii.elsewhere":
        raise TaxiiError(405, "Method not allowed", f"{request.method} is not served here")
    raise TaxiiError(404, "Not found", f"no TAXII resource at /taxii2/{rest}")
