"""Administration pages (admins only): the audit log, users and organisations (read-only; the
actions on a user are in :mod:`cert.accounts.admin_users`)."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cert.accounts.forms import ConfirmForm
from core import audit, inputs
from core.identity.authz import at_least, can_manage_users, can_read_audit
from core.identity.models import Organisation, Role, User
from core.web import fetch_page, get_session, int_arg, page_number
from core.web.auth import require

PAGE_SIZE = 50


@require(can_read_audit, "the audit log")
def audit_log() -> str:
    """Newest first, ``?before=<id>`` for older entries, filters by action and object type."""
    action = request.args.get("action", "").strip()
    object_type = request.args.get("object_type", "").strip()
    before = int_arg("before", low=1, high=inputs.MAX_ID)
    entries = audit.list_entries(
        get_session(),
        limit=PAGE_SIZE + 1,
        before_id=before,
        action=action or None,
        object_type=object_type or None,
    )
    older = entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None
    return render_template(
        "auth/audit.html",
        entries=entries[:PAGE_SIZE],
        older=older,
        before=before,
        action=action,
        object_type=object_type,
    )


@require(can_manage_users, "the user list")
def users() -> str:
    query = select(User).order_by(User.email)
    page = fetch_page(query, limit=PAGE_SIZE, offset=(page_number() - 1) * PAGE_SIZE)
    return render_template("auth/users.html", page=page, confirm=ConfirmForm())


@require(lambda actor: at_least(actor, Role.ADMIN), "the organisation list")
def organisations() -> str:
    query = (
        select(Organisation).options(selectinload(Organisation.assets)).order_by(Organisation.slug)
    )
    page = fetch_page(query, limit=PAGE_SIZE, offset=(page_number() - 1) * PAGE_SIZE)
    return render_template("auth/organisations.html", page=page)
