"""REST adapter of the feeds (blueprint ``feeds_api``, under ``/api/v1``):
``GET /feeds`` (CERT staff) and ``POST /feeds/<name>/poll`` (leads; polls now, synchronously)."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from core.api import paginate
from core.api.openapi import API_WRITES, Reply, operation
from core.identity.authz import require
from core.identity.models import Role
from core.web import context, unit_of_work
from core.web.auth import current_actor
from feeds.blueprints import NAME, TAG
from feeds.blueprints import api as bp
from feeds.models import Feed, RunTrigger
from feeds.sources.clients import http_client
from feeds.sources.poll import poll_feed
from feeds.sources.schemas import FeedOut, RunOut
from feeds.sources.services import feed_out, find_feed, run_out


@bp.get("/feeds")
@operation(
    summary="List the feeds",
    description="The sources of threat intelligence, by name, with their last run's status and "
    "counts and their next scheduled poll. Credentials appear only as the name of the "
    "environment variable holding them (`password_env`), never as a secret. CERT staff only.",
    tag=TAG,
    replies={200: Reply("One page of feeds", FeedOut, paginated=True)},
    errors=(403,),
)
def index() -> ResponseReturnValue:
    require(current_actor(), Role.ANALYST, "the feeds")
    return paginate(select(Feed).order_by(Feed.name), FeedOut, render=feed_out)


@bp.post("/feeds/<name>/poll")
@operation(
    summary="Poll a feed now",
    description="Reads the feed now and answers when the run ends, with its counts (new, "
    "updated, unchanged, revoked, expired, rejected) and its rejections (object id or line, "
    "and why). A source that cannot be read makes the run `failed` (200, `error` says why). "
    "Leads only.",
    tag=TAG,
    path_params=NAME,
    replies={200: Reply("The finished run", RunOut)},
    errors=(403,),
    rate_limit=API_WRITES,
)
def poll(name: str) -> ResponseReturnValue:
    actor = current_actor()
    require(actor, Role.LEAD, "polling a feed")
    uow = unit_of_work()
    feed = find_feed(uow.session, name)
    run = poll_feed(
        uow, actor, feed, http_client(), clock=context().clock, trigger=RunTrigger.MANUAL
    )
    return jsonify(run_out(run, feed.name).model_dump(mode="json"))
