"""The feeds' pages (blueprint ``feeds``): the list with each feed's state, last run, counts and
next poll, and a feed's run history with its rejections, for CERT staff; adding, changing,
enabling, disabling, deleting and polling now, for leads. Every action goes through
:mod:`feeds.sources.services` / :mod:`feeds.sources.poll` (as ``cert feeds …`` does, audited
there) and says what it did in a flash message."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import ValidationFailed
from core.identity.authz import Actor, at_least
from core.identity.models import Role
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor, require
from feeds.blueprints import pages as bp
from feeds.models import Feed, FeedKind, FeedRun, RunStatus, RunTrigger
from feeds.sources.clients import http_client
from feeds.sources.poll import poll_feed
from feeds.sources.schemas import ADDABLE, LIST_TYPES
from feeds.sources.services import (
    add_feed,
    delete_feed,
    find_feed,
    list_feeds,
    next_poll_at,
    set_enabled,
    update_feed,
)

RUNS_SHOWN = 50
CSV_FIELDS = ("value_type", "column", "delimiter")
TAXII_FIELDS = ("collection", "username", "password_env")
FORM_FIELDS = ("url", "tlp", "confidence", "interval_seconds", *CSV_FIELDS, *TAXII_FIELDS)


def is_staff(actor: Actor) -> bool:
    return at_least(actor, Role.ANALYST)


def is_lead(actor: Actor) -> bool:
    return at_least(actor, Role.LEAD)


@bp.get("/feeds")
@require(is_staff, "the feeds")
def index() -> ResponseReturnValue:
    feeds = list_feeds(get_session())
    return render_template(
        "feeds/index.html",
        feeds=feeds,
        next_poll={feed.id: next_poll_at(feed) for feed in feeds},
        lead=is_lead(current_actor()),
    )


@bp.get("/feeds/<name>")
@require(is_staff, "the feeds")
def runs(name: str) -> ResponseReturnValue:
    session = get_session()
    feed = find_feed(session, name)
    query = select(FeedRun).where(FeedRun.feed_id == feed.id).order_by(FeedRun.id.desc())
    return render_template(
        "feeds/runs.html",
        feed=feed,
        runs=list(session.scalars(query.limit(RUNS_SHOWN))),
        next_poll=next_poll_at(feed),
        lead=is_lead(current_actor()),
    )


@bp.route("/feeds/new", methods=["GET", "POST"])
@require(is_lead, "adding a feed")
def new() -> ResponseReturnValue:
    if request.method == "GET":
        return _form(None, {"kind": FeedKind.STIX_URL.value, "tlp": "TLP:AMBER"}, {})
    data = _submitted(request.form.get("kind", ""))
    try:
        feed = add_feed(get_session(), current_actor(), data, now=context().clock.now())
    except ValidationFailed as exc:
        unit_of_work().rollback()
        return _form(None, data, exc.fields), 422
    unit_of_work().commit()
    flash(_("The feed %(name)s has been added.", name=feed.name), "success")
    return redirect(url_for("feeds.index"))


@bp.route("/feeds/<name>/edit", methods=["GET", "POST"])
@require(is_lead, "changing a feed")
def edit(name: str) -> ResponseReturnValue:
    feed = find_feed(get_session(), name)
    if request.method == "GET":
        return _form(feed, _current(feed), {})
    data = _submitted(feed.kind.value)
    data.pop("name", None), data.pop("kind", None)
    try:
        update_feed(get_session(), current_actor(), feed, data, now=context().clock.now())
    except ValidationFailed as exc:
        unit_of_work().rollback()
        return _form(feed, data, exc.fields), 422
    unit_of_work().commit()
    flash(_("The feed %(name)s has been saved.", name=feed.name), "success")
    return redirect(url_for("feeds.index"))


@bp.post("/feeds/<name>/<any(enable, disable):action>")
@require(is_lead, "enabling or disabling a feed")
def toggle(name: str, action: str) -> ResponseReturnValue:
    feed = find_feed(get_session(), name)
    enabled = action == "enable"
    set_enabled(get_session(), current_actor(), feed, enabled, now=context().clock.now())
    unit_of_work().commit()
    if enabled:
        flash(_("The feed %(name)s is enabled.", name=feed.name), "success")
    else:
        flash(
            _("The feed %(name)s is disabled: it is no longer polled.", name=feed.name), "success"
        )
    return redirect(_back())


@bp.post("/feeds/<name>/delete")
@require(is_lead, "deleting a feed")
def delete(name: str) -> ResponseReturnValue:
    feed = find_feed(get_session(), name)
    delete_feed(get_session(), current_actor(), feed, now=context().clock.now())
    unit_of_work().commit()
    flash(_("The feed %(name)s and its indicators have been deleted.", name=name), "success")
    return redirect(url_for("feeds.index"))


@bp.post("/feeds/<name>/poll")
@require(is_lead, "polling a feed")
def poll(name: str) -> ResponseReturnValue:
    uow = unit_of_work()
    feed = find_feed(uow.session, name)
    run = poll_feed(
        uow, current_actor(), feed, http_client(), clock=context().clock, trigger=RunTrigger.MANUAL
    )
    counts = _(
        "%(new)s new, %(updated)s updated, %(unchanged)s unchanged, %(revoked)s revoked, "
        "%(expired)s expired, %(rejected)s rejected",
        **run.counts(),
    )
    if run.status is RunStatus.FAILED:
        flash(_("Polling %(name)s failed: %(error)s", name=name, error=run.error), "danger")
    elif run.error:
        flash(
            _(
                "Polling %(name)s stopped: %(error)s (%(counts)s)",
                name=name,
                error=run.error,
                counts=counts,
            ),
            "warning",
        )
    else:
        flash(_("%(name)s polled: %(counts)s.", name=name, counts=counts), "success")
    return redirect(_back())


def _back() -> str:
    """Where an action returns: the run history it was asked from, else the list."""
    if request.form.get("back") == "runs":
        return url_for("feeds.runs", name=request.view_args["name"] if request.view_args else "")
    return url_for("feeds.index")


def _submitted(kind: str) -> dict[str, Any]:
    """The form's values for the services: blanks are absent; the fields of other kinds are
    dropped (the form shows them all)."""
    form = request.form
    data: dict[str, Any] = {"name": form.get("name", ""), "kind": kind}
    for field in FORM_FIELDS:
        value = form.get(field, "").strip()
        if value:
            data[field] = value
    if kind != FeedKind.CSV.value:
        for field in CSV_FIELDS:
            data.pop(field, None)
    if kind != FeedKind.TAXII.value:
        for field in TAXII_FIELDS:
            data.pop(field, None)
    data["types"] = form.getlist("types")
    data["enabled"] = form.get("enabled") == "on"
    return data


def _current(feed: Feed) -> dict[str, Any]:
    return {
        "name": feed.name,
        "kind": feed.kind.value,
        "url": feed.url or "",
        "tlp": feed.default_tlp.value,
        "confidence": feed.confidence,
        "interval_seconds": feed.interval_seconds or "",
        "value_type": feed.value_type or "",
        "column": feed.column or "",
        "delimiter": feed.delimiter or "",
        "collection": feed.collection or "",
        "username": feed.username or "",
        "password_env": feed.password_env or "",
        "types": list(feed.types),
        "enabled": feed.enabled,
    }


def _form(feed: Feed | None, values: dict[str, Any], errors: dict[str, str]) -> str:
    values.setdefault("enabled", True)
    values.setdefault("types", [])
    return render_template(
        "feeds/form.html",
        feed=feed,
        values=values,
        errors=errors,
        kinds=[k.value for k in ADDABLE],
        list_types=[t.value for t in LIST_TYPES],
    )
