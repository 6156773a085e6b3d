"""The bulletins' TAXII publication (Flask-free): ``bulletins.stix.taxii`` subscribes to
``bulletin.published`` and stores the bulletin's STIX objects (:mod:`bulletins.stix.report`) in
the TAXII collection of its TLP, through :func:`incidents.sharing.publishing.sync` (the incidents
slice owns the collections and never imports the bulletins).

What is stored is computed again from the bulletin's published revisions, whatever the event
says, so a re-delivered or late event changes nothing (idempotent, order-free):

* every published revision at the bulletin's *current* TLP gives a version of each object (the
  report, its vulnerabilities, indicators and translations); an object the last revision dropped
  (an indicator found to be benign) is withdrawn, every version of it, rather than served as
  still current;
* a revision that changed the TLP withdraws the versions at the former level (they were marked
  at it); ``TLP:RED`` withdraws the bulletin from every collection;
* the AMBER audience is the bulletin's concerned organisations (:mod:`bulletins.access`);
* the producer ``identity`` is named ``CERT_NAME`` (the slice's settings, handed over by the
  dispatcher); its id, like every other, comes from the reference's prefix.

Revisions in progress never show: only revision snapshots are read.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bulletins.events import BulletinEventName, Published
from bulletins.models import Bulletin, BulletinPublishedOrganisation, BulletinRevision
from bulletins.outputs.view import RevisionView, from_snapshot
from bulletins.rules.references import parse_reference
from bulletins.settings import BulletinSettings
from bulletins.stix.report import stix_objects
from core.clock import SystemClock
from core.events import Event, Handler
from incidents.sharing import stix_objects as so
from incidents.sharing.publishing import sync, withdraw


def source_key(reference: str) -> str:
    return f"bulletin/{reference}"


def publish_to_taxii(session: Session, event: Event, settings: BulletinSettings) -> None:
    payload = event.payload
    if not isinstance(payload, Published):
        raise TypeError(f"{event.name}: not a bulletin's publication")
    bulletin = session.get(Bulletin, payload.bulletin_id)
    if bulletin is None or bulletin.reference is None:
        withdraw(session, source_key(payload.reference))
        return
    rows = session.scalars(
        select(BulletinRevision)
        .where(BulletinRevision.bulletin_id == bulletin.id)
        .order_by(BulletinRevision.number)
    ).all()
    if not rows:
        return
    history = tuple(RevisionView(r.number, r.summary, r.published_at) for r in rows)
    views = [
        from_snapshot(
            bulletin.id,
            row.snapshot,
            history[: i + 1],
            published_at=bulletin.published_at,
            revised_at=row.published_at,
        )
        for i, row in enumerate(rows)
    ]
    level, now = views[-1].tlp, SystemClock().now()
    producer = so.Producer(parse_reference(bulletin.reference)[0], settings.cert_name)
    objects: dict[tuple[str, str], so.Obj] = {}
    for view in views:
        if view.tlp is level:
            for obj in stix_objects(view, producer=producer, now=now):
                objects[(obj["id"], obj["modified"])] = obj
    current = {obj["id"] for obj in stix_objects(views[-1], producer=producer, now=now)}
    kept = [obj for (stix_id, _), obj in objects.items() if stix_id in current]
    organisations = session.scalars(
        select(BulletinPublishedOrganisation.organisation_id).where(
            BulletinPublishedOrganisation.bulletin_id == bulletin.id
        )
    ).all()
    sync(
        session, source_key(bulletin.reference), level, kept,
        organisations=organisations, now=now,
    )  # fmt: skip


HANDLERS: tuple[Handler, ...] = (
    Handler.with_settings(
        "bulletins.stix.taxii",
        {BulletinEventName.PUBLISHED},
        publish_to_taxii,
        slice_name="bulletins",
        kind=BulletinSettings,
    ),
)
