"""``cert demo``: realistic published bulletins (a vulnerability advisory with a revision,
another advisory, an alert with indicators, a weekly digest) and four distribution lists (all
administrations, a sector, the constituency of the demo health centre, a named list), so that a
new installation shows the archive, the feed and the API with content
(:class:`core.slices.Demo`, declared in :data:`bulletins.slice.SLICE`). Flask-free; the command
owns the transaction.

The data is ``bulletins/data/demo/demo_bulletins.json``. Bulletins go through the authoring
services as people would: written and submitted by the demo analyst, approved and published by
the demo coordinator (four eyes), published over the past weeks oldest first so that the
references follow the dates. Publishing queues no e-mail (the distribution sender is not
called). Idempotent: a list whose slug exists, or a bulletin whose ``source_ref``
(``demo:<key>``) exists, is left alone.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bulletins import settings as bulletin_settings
from bulletins.authoring import services as svc
from bulletins.authoring.schemas import DraftIn
from bulletins.models import (
    Bulletin,
    DigestFrequency,
    DistributionList,
    ListKind,
    ListMember,
)
from core.auth import services as accounts
from core.clock import Clock
from core.config import Config
from core.identity.authz import Actor
from core.identity.centres import Centre
from core.identity.models import Organisation

DEMO_PREFIX = "demo:"
AUTHOR = "analyste@macert.gov.ma"  # writes and submits
PUBLISHER = "coordinateur@macert.gov.ma"  # approves and publishes


class _Earlier:
    """``clock`` moved back by ``delta``: demo bulletins were published over the past weeks."""

    def __init__(self, clock: Clock, delta: dt.timedelta) -> None:
        self._clock, self._delta = clock, delta

    def now(self) -> dt.datetime:
        return self._clock.now() - self._delta


def demo_data() -> dict[str, Any]:
    raw = resources.files("bulletins").joinpath("data/demo/demo_bulletins.json")
    data: dict[str, Any] = json.loads(raw.read_text("utf-8"))
    return data


def seed(session: Session, actor: Actor, clock: Clock, config: Config) -> str:
    """Create the demo lists and bulletins that are absent; one summary line."""
    data = demo_data()
    lists = _seed_lists(session, actor, clock, data["lists"])
    author, publisher = _user(session, AUTHOR), _user(session, PUBLISHER)
    if author is None or publisher is None:
        return f"demo bulletins: {lists} list(s) created; bulletins skipped (demo users missing)"
    present = set(
        session.scalars(
            select(Bulletin.source_ref).where(Bulletin.source_ref.like(f"{DEMO_PREFIX}%"))
        )
    )
    settings = bulletin_settings.from_config(config)
    references: dict[str, str] = {}
    for ref, key in session.execute(
        select(Bulletin.reference, Bulletin.source_ref).where(Bulletin.source_ref.in_(present))
    ):
        if ref is not None and key is not None:
            references[key.removeprefix(DEMO_PREFIX)] = ref
    created = 0
    for item in sorted(data["bulletins"], key=lambda i: -i["days_ago"]):
        if DEMO_PREFIX + item["key"] in present:
            continue
        references[item["key"]] = _publish(
            session, author, publisher, item, references, clock=clock, settings=settings
        )
        created += 1
    return (
        f"demo bulletins: {created} published, {len(present)} already present; "
        f"{lists} distribution list(s) created"
    )


def _publish(
    session: Session,
    author: Actor,
    publisher: Actor,
    item: dict[str, Any],
    references: dict[str, str],
    *,
    clock: Clock,
    settings: bulletin_settings.BulletinSettings,
) -> str:
    when = _Earlier(clock, dt.timedelta(days=item["days_ago"]))
    data = DraftIn.model_validate(_fill_references(item["draft"], references))
    bulletin = svc.create_draft(session, author, data, clock=when)
    bulletin.source_ref = DEMO_PREFIX + item["key"]
    svc.submit(session, author, bulletin, clock=when)
    svc.approve(session, publisher, bulletin, clock=when)
    svc.publish(session, publisher, bulletin, clock=when, settings=settings)
    revision = item.get("revision")
    if revision is not None:
        later = _Earlier(clock, dt.timedelta(days=revision["days_ago"]))
        changed = item["draft"] | {"affected": revision["affected"]}
        svc.revise(session, author, bulletin, clock=later)
        svc.update_draft(session, author, bulletin, DraftIn.model_validate(changed), clock=later)
        svc.submit(session, author, bulletin, clock=later)
        svc.approve(session, publisher, bulletin, clock=later)
        svc.publish(session, publisher, bulletin, clock=later, settings=settings,
                    change=revision["change"])  # fmt: skip
    return bulletin.reference or ""


def _fill_references(draft: dict[str, Any], references: dict[str, str]) -> dict[str, Any]:
    """``{key}`` in the texts → the reference of that demo bulletin (a digest cites them)."""
    texts = {}
    for language, text in draft["texts"].items():
        filled = dict(text)
        for key, reference in references.items():
            filled["summary"] = filled.get("summary", "").replace("{" + key + "}", reference)
        texts[language] = filled
    return draft | {"texts": texts}


def _seed_lists(session: Session, actor: Actor, clock: Clock, specs: list[dict[str, Any]]) -> int:
    existing = set(
        session.scalars(
            select(DistributionList.slug).where(
                DistributionList.slug.in_([s["slug"] for s in specs])
            )
        )
    )
    orgs: dict[str, int] = dict(session.execute(select(Organisation.slug, Organisation.id)).all())
    centres: dict[str, int] = dict(session.execute(select(Centre.slug, Centre.id)).all())
    now, created = clock.now(), 0
    for spec in specs:
        if spec["slug"] in existing or spec.get("centre", "") not in {"", *centres}:
            continue  # there, or its centre is not (a lead deleted it)
        dlist = DistributionList(
            slug=spec["slug"], name=spec["name"], kind=ListKind(spec["kind"]),
            sector=spec.get("sector"), centre_id=centres.get(spec.get("centre", "")),
            digest=DigestFrequency(spec["digest"]),
            language=spec["language"], created_at=now, updated_at=now,
            created_by_id=actor.user_id,
        )  # fmt: skip
        for member in spec.get("members", []):
            dlist.members.append(
                ListMember(
                    email=member["email"],
                    name=member["name"],
                    language=member["language"],
                    created_at=now,
                    organisation_id=orgs.get(member["organisation"]),
                )  # fmt: skip
            )
        session.add(dlist)
        created += 1
    session.flush()
    return created


def _user(session: Session, email: str) -> Actor | None:
    user = accounts.find_user(session, email)
    return Actor.for_user(user) if user is not None and user.is_active else None
