"""Administration lists (admins only): the audit log, users (with filters), organisations and
every user's API tokens. The pages acting on one user or organisation are
:mod:`cert.accounts.admin_users` and :mod:`cert.accounts.admin_orgs`."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cert.accounts.forms import ConfirmForm
from core import audit, inputs
from core.auth import organisations as orgs
from core.auth import services as accounts
from core.auth import tokens
from core.errors import ValidationFailed
from core.identity.authz import can_manage_users, can_read_audit
from core.identity.models import Organisation, Role
from core.web import LANGUAGE_NAMES, fetch_page, get_session, int_arg, page_number
from core.web.auth import require

PAGE_SIZE = 50
STATUSES = {"active": True, "inactive": False}


@require(can_read_audit, "the audit log")
def audit_log() -> str:
    """Newest first, ``?before=<id>`` for older entries, filters by action, object type and
    object (``?object_type=user&object_id=7``: the history of an account)."""
    action = request.args.get("action", "").strip()
    object_type = request.args.get("object_type", "").strip()
    object_id = request.args.get("object_id", "").strip()[:64]
    before = int_arg("before", low=1, high=inputs.MAX_ID)
    entries = audit.list_entries(
        get_session(),
        limit=PAGE_SIZE + 1,
        before_id=before,
        action=action or None,
        object_type=object_type or None,
        object_id=object_id or None,
    )
    older = entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None
    return render_template(
        "auth/audit.html",
        entries=entries[:PAGE_SIZE],
        older=older,
        before=before,
        action=action,
        object_type=object_type,
        object_id=object_id,
    )


def _choice(name: str, allowed: object) -> str:
    """A filter's value: empty, or one of ``allowed`` (422 naming the argument otherwise)."""
    value = request.args.get(name, "").strip()
    if value and value not in allowed:  # type: ignore[operator]
        raise ValidationFailed(f"invalid {name}", fields={name: "not one of the choices"})
    return value


@require(can_manage_users, "the user list")
def users() -> str:
    """Every account, by e-mail address; search in names and addresses, filter by role,
    organisation and status."""
    q = request.args.get("q", "").strip()[:200]
    role = _choice("role", {r.value for r in Role})
    status = _choice("status", STATUSES)
    organisation = int_arg("organisation", low=1, high=inputs.MAX_ID)
    query = accounts.users_query(
        q=q, role=role or None, organisation_id=organisation, active=STATUSES.get(status)
    )
    page = fetch_page(query, limit=PAGE_SIZE, offset=(page_number() - 1) * PAGE_SIZE)
    return render_template(
        "auth/users.html",
        page=page,
        organisations=orgs.list_organisations(get_session()),
        filters={"q": q, "role": role, "status": status, "organisation": organisation},
        language_names=LANGUAGE_NAMES,
    )


@require(can_manage_users, "the organisation list")
def organisations() -> str:
    query = (
        select(Organisation).options(selectinload(Organisation.assets)).order_by(Organisation.slug)
    )
    page = fetch_page(query, limit=PAGE_SIZE, offset=(page_number() - 1) * PAGE_SIZE)
    return render_template("auth/organisations.html", page=page)


@require(can_manage_users, "the API tokens")
def api_tokens() -> str:
    """Every user's tokens, newest first (``?active=1``: only those that work)."""
    active = request.args.get("active") == "1"
    query = tokens.all_tokens_query(active_only=active)
    page = fetch_page(query, limit=PAGE_SIZE, offset=(page_number() - 1) * PAGE_SIZE)
    return render_template("auth/tokens.html", page=page, active=active, confirm=ConfirmForm())
