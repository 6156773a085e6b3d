"""The x-vigie actions on threat intelligence (Flask-free): ``match-observables`` (the incident's
observables matched against the indicator index again, by the enrichment intake uses) and
``poll-feed`` (a feed polled now, by the feeds slice's poll).

``poll-feed`` is registered ``external``: it reads a remote source, after the engine committed
the step's "interrupted" record (see :mod:`playbooks.engine.registry`). The feeds' poll commits
each page it stores with its checkpoint; inside a step those commits are savepoints of the
step's transaction, so the poll's pages, its run and the step's record are kept together —
never the engine's transaction committed halfway by the poll.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.uow import NestedUnitOfWork
from feeds.models import Feed, RunStatus, RunTrigger
from feeds.sources.fetch import RequestsHttp
from feeds.sources.poll import poll_feed
from incidents.intel.enrichment import enrich
from incidents.intel.models import FoundBy, IncidentMatch
from playbooks.actions.common import ActionError, Invocation, vigie_action
from playbooks.engine.registry import CommandOutcome


@vigie_action("match-observables")
def match_observables(session: Session, inv: Invocation) -> CommandOutcome:
    """``__matches__``: how many threat-intel matches the incident has once its observables
    were matched again (new ones are recorded as sightings, as a retro-hunt's, and the
    attention rule applies)."""
    call, incident = inv.call, inv.call.incident
    if incident is None:
        raise ActionError("match-observables needs a run on an incident")
    new = enrich(
        session,
        incident,
        list(incident.observables),
        found_by=FoundBy.RETROHUNT,
        actor=call.actor,
        clock=call.clock,
        settings=call.settings.intake,
    )
    total = session.scalar(
        select(func.count())
        .select_from(IncidentMatch)
        .where(IncidentMatch.incident_id == incident.id)
    )
    return CommandOutcome(
        outputs={"__matches__": int(total or 0)},
        result=f"{total} match(es) on {incident.reference}, {len(new)} new",
    )


@vigie_action("poll-feed", external=True, savepoint=False)
def poll(session: Session, inv: Invocation) -> CommandOutcome:
    """The feed named ``feed`` polled now; ``__new_indicators__``: the indicators it added.
    A disabled or unknown feed, or a poll that failed, fails the step."""
    call, name = inv.call, inv.text("feed") or ""
    feed = session.scalar(select(Feed).where(Feed.name == name))
    if feed is None:
        raise ActionError(f"arguments.feed: no feed named {name!r}")
    if not feed.enabled:
        raise ActionError(f"arguments.feed: the feed {name!r} is disabled")
    transactions = NestedUnitOfWork(session)
    try:
        run = poll_feed(
            transactions,
            call.actor,
            feed,
            RequestsHttp(call.settings.feeds),
            clock=call.clock,
            trigger=RunTrigger.MANUAL,
        )
    finally:
        transactions.close()
    outputs = {"__new_indicators__": run.new}
    if run.status is RunStatus.FAILED:
        return CommandOutcome(ok=False, outputs=outputs, error=f"poll of {name}: {run.error}")
    return CommandOutcome(
        outputs=outputs,
        result=f"{name} polled: {run.new} new, {run.updated} updated ({run.status})",
    )
