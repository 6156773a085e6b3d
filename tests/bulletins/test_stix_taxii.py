"""The ``bulletins.stix.taxii`` handler of ``bulletin.published`` and the TAXII collections'
third source, on both databases: a re-delivered event adds nothing, a revision adds a version,
a TLP change withdraws the former level's versions, RED withdraws everything, and each reader
gets what the bulletins' read rule allows (AMBER: CERT staff and the concerned organisations)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bulletins.authoring import services as svc
from bulletins.events import AGGREGATE, BulletinEventName, Published
from bulletins.handlers import HANDLERS
from bulletins.models import Bulletin
from bulletins.stix.handlers import publish_to_taxii
from core.clock import FrozenClock
from core.events import Event
from core.markings import Tlp
from incidents.sharing import stix_objects as so
from incidents.sharing.collections import COLLECTIONS, read_page
from incidents.sharing.shareable import Audience
from incidents.sharing.stored import SharedAudience, SharedObject, SharedSource
from incidents.sharing.taxii_params import parse_query
from tests.bulletins.stix_check import assert_valid_objects
from tests.bulletins.test_authoring import SETTINGS, draft, people, published
from tests.kit.world import World

IOCS = [{"type": "ipv4", "value": "185.220.101.4"}, {"type": "domain", "value": "evil.example"}]


def _handle(session: Session, bulletin: Bulletin) -> None:
    assert bulletin.reference is not None
    payload = Published(bulletin_id=bulletin.id, reference=bulletin.reference,
                        revision=bulletin.revision, tlp=bulletin.tlp)  # fmt: skip
    event = Event(BulletinEventName.PUBLISHED, payload, AGGREGATE, bulletin.reference)
    publish_to_taxii(session, event, SETTINGS)


def _rows(session: Session) -> list[tuple[str, str, str]]:
    query = select(SharedObject.type, SharedObject.level, SharedObject.stix_id).order_by(
        SharedObject.id
    )
    return [(t, lvl, i) for t, lvl, i in session.execute(query)]


def _revise(session: Session, clock: FrozenClock, world: World, bulletin: Bulletin,
            **changes: Any) -> None:  # fmt: skip
    _, lead, other = people(world)
    clock.advance(hours=1)
    svc.revise(session, lead, bulletin, clock=clock)
    svc.update_draft(session, lead, bulletin, draft(**changes), clock=clock)
    svc.submit(session, lead, bulletin, clock=clock)
    svc.approve(session, other, bulletin, clock=clock)
    svc.publish(session, lead, bulletin, clock=clock, settings=SETTINGS, change="Mise à jour")


def _page(session: Session, audience: Audience, level: Tlp, **args: str) -> list[dict[str, Any]]:
    collection = next(c for c in COLLECTIONS if c.level is level)
    query = parse_query({k.replace("_", "[", 1) + "]" if k.startswith("match_") else k: [v]
                         for k, v in args.items()})  # fmt: skip
    page = read_page(
        session, audience, collection, query, producer=so.Producer("MACERT", SETTINGS.cert_name)
    )
    objects = [e.obj for e in page.entries]
    assert_valid_objects(objects)
    return objects


def test_the_handler_is_subscribed_to_publications() -> None:
    (handler,) = (h for h in HANDLERS if h.name == "bulletins.stix.taxii")
    assert handler.events == {BulletinEventName.PUBLISHED}


def test_a_redelivered_event_adds_nothing_and_a_revision_adds_versions(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    bulletin, _ = published(db_session, clock, world, tlp="green", indicators=IOCS)
    _handle(db_session, bulletin)
    first = _rows(db_session)
    assert sorted(t for t, _, _ in first) == [
        "indicator", "indicator", "language-content", "report", "vulnerability"
    ]  # fmt: skip
    assert {lvl for _, lvl, _ in first} == {"TLP:GREEN"}
    added = db_session.scalars(select(SharedObject.date_added)).all()
    _handle(db_session, bulletin)  # re-delivered
    assert _rows(db_session) == first
    assert db_session.scalars(select(SharedObject.date_added)).all() == added
    _revise(db_session, clock, world, bulletin, tlp="green", indicators=IOCS[:1])
    _handle(db_session, bulletin)
    _handle(db_session, bulletin)
    rows = _rows(db_session)
    assert len(rows) == 5 + 4 - 1  # new versions: report, translation, CVE, the kept indicator
    dropped = next(i for t, _, i in first if t == "indicator" and i not in {r[2] for r in rows})
    report_id = next(i for t, _, i in first if t == "report")
    staff = Audience(True, None)
    (last,) = _page(db_session, staff, Tlp.GREEN, match_type="report")
    assert last["id"] == report_id and last["modified"] > last["created"]
    both = _page(db_session, staff, Tlp.GREEN, match_type="report", match_version="all")
    assert [o["modified"] for o in both] == sorted({o["modified"] for o in both})
    assert len(both) == 2
    (firstv,) = _page(db_session, staff, Tlp.GREEN, match_id=report_id, match_version="first")
    assert firstv["modified"] == firstv["created"]
    # the dropped indicator is withdrawn; the kept one has two versions
    indicators = _page(db_session, staff, Tlp.GREEN, match_type="indicator", match_version="all")
    assert len(indicators) == 2 and {o["id"] for o in indicators} != {dropped}
    assert "185.220.101.4" in str(indicators) and "evil.example" not in str(indicators)


def test_a_tlp_change_moves_the_bulletin_and_red_withdraws_it(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    bulletin, _ = published(db_session, clock, world, tlp="green", indicators=IOCS)
    _handle(db_session, bulletin)
    _revise(db_session, clock, world, bulletin, tlp="amber", indicators=IOCS,
            organisations=[world.interieur.slug])  # fmt: skip
    _handle(db_session, bulletin)
    rows = _rows(db_session)
    assert len(rows) == 5 and {lvl for _, lvl, _ in rows} == {"TLP:AMBER"}
    assert db_session.scalars(select(SharedAudience.organisation_id)).all() == [world.interieur.id]
    staff = Audience(True, None)
    interieur = Audience(False, world.interieur.id)
    sante = Audience(False, world.sante.id)
    assert _page(db_session, staff, Tlp.GREEN, match_type="report") == []
    assert len(_page(db_session, staff, Tlp.AMBER, match_type="report,indicator")) == 3
    assert len(_page(db_session, interieur, Tlp.AMBER, match_type="report,indicator")) == 3
    assert _page(db_session, sante, Tlp.AMBER, match_type="report,indicator") == []
    assert _page(db_session, sante, Tlp.AMBER_STRICT, match_type="report") == []
    _revise(db_session, clock, world, bulletin, tlp="red", indicators=IOCS)
    _handle(db_session, bulletin)
    assert _rows(db_session) == []
    assert db_session.scalar(select(func.count()).select_from(SharedSource)) == 0


def test_a_red_bulletin_is_never_stored_and_a_revision_in_progress_never_shows(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    red, _ = published(db_session, clock, world, tlp="red", indicators=IOCS)
    _handle(db_session, red)
    assert _rows(db_session) == []
    green, _ = published(db_session, clock, world, tlp="green", indicators=IOCS[:1])
    _, lead, _ = people(world)
    svc.revise(db_session, lead, green, clock=clock)
    secret = [{"type": "domain", "value": "draft-only.example"}]
    svc.update_draft(db_session, lead, green, draft(tlp="green", indicators=secret), clock=clock)
    _handle(db_session, green)  # e.g. a late delivery while the revision is being written
    text = str(db_session.scalars(select(SharedObject.body)).all())
    assert "185.220.101.4" in text and "draft-only.example" not in text
