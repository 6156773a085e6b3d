"""The collections' use case on both databases: warning-listed values skipped batch after batch,
an observable labelled less strictly than its incident never served (documented limit), and the
same indicator objects as the incident's STIX export."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.markings import Tlp
from incidents.sharing import stix_objects as so
from incidents.sharing.collections import COLLECTIONS, read_page
from incidents.sharing.export import export_incident
from incidents.sharing.shareable import Audience
from incidents.sharing.taxii_params import parse_query
from tests.kit.factories import report
from tests.kit.world import World

STAFF = Audience(True, None)
PRODUCER = so.Producer("MACERT", "maCERT")
STAFF_ACTOR = Actor.system("test")
GREEN = next(c for c in COLLECTIONS if c.level is Tlp.GREEN)
AMBER = next(c for c in COLLECTIONS if c.level is Tlp.AMBER)


def _values(session: Session, collection: object, **args: str) -> list[str]:
    query = parse_query({"match[type]": ["indicator"], **{k: [v] for k, v in args.items()}})
    page = read_page(session, STAFF, collection, query, producer=PRODUCER)  # type: ignore[arg-type]
    return [e.obj["pattern"].split("'")[1] for e in page.entries]


def test_listed_values_are_skipped_across_batches(
    db_session: Session, world: World, clock: FrozenClock
) -> None:
    incident = report(db_session, clock, world.reporter, tlp="TLP:GREEN")
    ordered = sorted(incident.observables, key=lambda o: (o.created_at, o.id))
    *listed, kept = ordered
    for observable in listed:
        observable.warning_lists = ["Known"]
    db_session.flush()
    assert len(listed) >= 3
    assert _values(db_session, GREEN, limit="1") == [kept.value]  # batches of 2 rows, all listed


def test_an_observable_labelled_below_its_incident_is_not_served(
    db_session: Session, world: World, clock: FrozenClock
) -> None:
    incident = report(db_session, clock, world.reporter, tlp="TLP:AMBER")
    lowered = incident.observables[0]
    lowered.tlp = Tlp.GREEN
    db_session.flush()
    assert lowered.value not in _values(db_session, GREEN)  # it would leave above its label
    assert lowered.value not in _values(db_session, AMBER)  # the known limit
    assert len(_values(db_session, AMBER)) == len(incident.observables) - 1


def test_the_export_and_the_collection_share_the_same_objects(
    db_session: Session, world: World, clock: FrozenClock
) -> None:
    incident = report(db_session, clock, world.reporter, tlp="TLP:GREEN")
    bundle = export_incident(db_session, STAFF_ACTOR, incident.reference, producer=PRODUCER)
    exported = {o["id"]: o for o in bundle["objects"] if o["type"] == "indicator"}
    query = parse_query({"match[type]": ["indicator"]})
    served = read_page(db_session, STAFF, GREEN, query, producer=PRODUCER).entries
    assert exported and {e.obj["id"]: e.obj for e in served} == exported  # same id, same version
