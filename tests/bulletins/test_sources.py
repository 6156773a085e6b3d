"""Drafts pre-filled from incidents and CVE lists, on both databases: never an indicator beyond
the bulletin's TLP (a RED or AMBER observable never enters a GREEN bulletin, nor a merged one
from a stricter origin), no known-benign value, the incidents' organisations as the audience of
an AMBER bulletin, only incidents the author may see; the playbook's request is drafted once per
run, through a real recorded event and the dispatcher."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bulletins.authoring import sources
from bulletins.authoring.handlers import HANDLERS
from bulletins.models import (
    Bulletin,
    BulletinIncident,
    BulletinOrganisation,
    BulletinSource,
    BulletinStatus,
)
from core.clock import FrozenClock
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.events import Event, deliver_events, record_event
from core.identity.authz import Actor
from core.identity.models import Organisation
from core.markings import Tlp
from incidents.models import Incident, IncidentObservable
from playbooks.events import AGGREGATE, BulletinRequested, PlaybookEventName
from tests.kit.factories import report
from tests.kit.world import World


def observe(session: Session, incident: Incident, kind: str, value: str, tlp: Tlp,
            *, origin: Incident | None = None, benign: bool = False) -> None:  # fmt: skip
    incident.observables.append(
        IncidentObservable(
            type=kind,
            value=value,
            tlp=tlp,
            sources=["analyst"],
            created_at=incident.received_at,
            warning_lists=["x"] if benign else [],
            origin_incident_id=origin.id if origin else None,
        )
    )
    session.flush()


def values(bulletin: Bulletin) -> set[str]:
    return {i["value"] for i in bulletin.indicators}


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Bulletin)) or 0)


def test_a_green_bulletin_takes_only_green_or_clear_indicators(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, tlp="TLP:GREEN")
    incident.observables.clear()
    db_session.flush()
    observe(db_session, incident, "ipv4", "203.0.113.7", Tlp.GREEN)
    observe(db_session, incident, "domain", "clear.example", Tlp.CLEAR)
    observe(db_session, incident, "ipv4", "198.51.100.66", Tlp.RED)
    observe(db_session, incident, "url", "https://amber.example/x", Tlp.AMBER)
    observe(db_session, incident, "domain", "google.com", Tlp.CLEAR, benign=True)
    observe(db_session, incident, "cve", "CVE-2026-1111", Tlp.GREEN)
    red = report(db_session, clock, world.other_reporter, tlp="TLP:RED")
    observe(db_session, incident, "sha256", "a" * 64, Tlp.GREEN, origin=red)  # merged from RED
    analyst = Actor.for_user(world.analyst)
    green = sources.draft_from_incidents(
        db_session, analyst, [incident.reference], kind="alert", tlp="green", clock=clock
    )
    assert values(green) == {"203.0.113.7", "clear.example"}
    assert green.cves == ["CVE-2026-1111"] and green.tlp == "TLP:GREEN"
    assert green.source is BulletinSource.INCIDENTS and green.status is BulletinStatus.DRAFT
    assert green.source_ref == f"incidents:{incident.reference}"
    assert green.text("fr") is not None and green.text("fr").title == "Alerte : Hameçonnage"  # type: ignore[union-attr]
    assert "Berrada" not in str(green.texts[0].summary)  # no free text of the reporter
    linked = db_session.scalars(
        select(BulletinIncident.incident_id).where(BulletinIncident.bulletin_id == green.id)
    ).all()
    assert linked == [incident.id]
    assert not db_session.scalars(
        select(BulletinOrganisation).where(BulletinOrganisation.bulletin_id == green.id)
    ).all()
    amber = sources.draft_from_incidents(
        db_session, analyst, [incident.id], kind="alert", tlp="TLP:AMBER", clock=clock
    )
    assert values(amber) == {"203.0.113.7", "clear.example", "https://amber.example/x"}
    lead = Actor.for_user(world.lead)
    red_ok = sources.draft_from_incidents(
        db_session, lead, [incident.id], kind="alert", tlp="TLP:RED", clock=clock
    )
    assert "198.51.100.66" in values(red_ok) and "a" * 64 in values(red_ok)
    assert "google.com" not in values(red_ok)  # known-benign: never


def test_a_reporters_amber_incident_makes_an_amber_bulletin_about_its_organisation(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, tlp="TLP:AMBER")
    assert incident.observables  # the phishing report's URL, address and e-mail
    other = report(db_session, clock, world.other_reporter, tlp="TLP:AMBER")
    bulletin = sources.draft_from_incidents(
        db_session,
        Actor.for_user(world.analyst),
        [incident.reference, other.reference],
        kind="note",
        tlp="amber",
        clock=clock,
    )
    slugs = db_session.scalars(
        select(Organisation.slug)
        .join(BulletinOrganisation, BulletinOrganisation.organisation_id == Organisation.id)
        .where(BulletinOrganisation.bulletin_id == bulletin.id)
        .order_by(Organisation.slug)
    ).all()
    assert slugs == ["min-interieur", "min-sante"]
    assert {o.value for o in incident.observables} <= values(bulletin)
    green = sources.draft_from_incidents(
        db_session,
        Actor.for_user(world.analyst),
        [incident.reference],
        kind="note",
        tlp="green",
        clock=clock,
    )
    assert green.indicators == [] and green.cves == []  # the incident itself is AMBER


def test_only_incidents_the_author_may_see(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    red = report(db_session, clock, world.reporter, tlp="TLP:RED")
    analyst = Actor.for_user(world.analyst)
    before = count(db_session)
    with pytest.raises(NotFound) as refused:
        sources.draft_from_incidents(
            db_session, analyst, [red.reference], kind="alert", tlp="red", clock=clock
        )
    assert red.reference in refused.value.message
    with pytest.raises(NotFound, match="MACERT-2026-999999"):
        sources.draft_from_incidents(
            db_session, analyst, ["MACERT-2026-999999"], kind="alert", tlp="red", clock=clock
        )
    with pytest.raises(PermissionDenied):  # a reporter writes no bulletin, even of their own
        sources.draft_from_incidents(
            db_session,
            Actor.for_user(world.reporter),
            [red.id],
            kind="alert",
            tlp="red",
            clock=clock,
        )
    with pytest.raises(ValidationFailed) as bad:
        sources.draft_from_incidents(
            db_session, analyst, [red.id], kind="memo", tlp="red", clock=clock
        )
    assert "kind" in bad.value.fields
    with pytest.raises(ValidationFailed) as crowd:
        sources.draft_from_incidents(db_session, analyst, list(range(1, 52)), kind="alert",
                                     tlp="red", clock=clock)  # fmt: skip
    assert list(crowd.value.fields) == ["incidents"]
    assert count(db_session) == before
    mine = sources.draft_from_incidents(
        db_session,
        Actor.for_user(world.lead),
        [red.reference],
        kind="alert",
        tlp="red",
        clock=clock,
    )
    assert mine.tlp == "TLP:RED"


def test_a_draft_from_a_cve_list(db_session: Session, clock: FrozenClock, world: World) -> None:
    analyst = Actor.for_user(world.analyst)
    bulletin = sources.draft_from_cves(
        db_session, analyst, ["cve-2026-21762, CVE-2025-0001", "CVE-2026-21762"], clock=clock
    )
    assert bulletin.cves == ["CVE-2026-21762", "CVE-2025-0001"]
    assert bulletin.links == ["https://www.cve.org/CVERecord?id=CVE-2026-21762",
                              "https://www.cve.org/CVERecord?id=CVE-2025-0001"]  # fmt: skip
    assert bulletin.text("fr").title == "Vulnérabilités CVE-2026-21762, CVE-2025-0001"  # type: ignore[union-attr]
    assert bulletin.source is BulletinSource.CVES and bulletin.kind.value == "advisory"
    many = [f"CVE-2026-{n:05d}" for n in range(201)]
    for bad in (["CVE-26-1"], [""], ["<script>"], many):
        with pytest.raises(ValidationFailed) as refused:
            sources.draft_from_cves(db_session, analyst, bad, clock=clock)
        assert list(refused.value.fields) == ["cves"]


def _request(session: Session, clock: FrozenClock, run_id: int, incident: Incident) -> None:
    payload = BulletinRequested(
        run_id=run_id, incident_id=incident.id, organisation_id=incident.organisation_id
    )
    event = Event.of(
        PlaybookEventName.BULLETIN_REQUESTED,
        payload,
        aggregate=(AGGREGATE, run_id),
        actor=Actor.system("test"),
    )
    record_event(session, event, clock=clock)


def test_a_playbooks_request_is_drafted_once_per_run(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with factory() as session:
        world = World(session, clock)
        incident = report(session, clock, world.reporter, tlp="TLP:GREEN")
        observe(session, incident, "ipv4", "198.51.100.9", Tlp.RED)
        _request(session, clock, 41, incident)
        _request(session, clock, 41, incident)  # the same run asks again (a redelivery)
        session.commit()
        incident_id = incident.id
    first = deliver_events(factory, HANDLERS, clock=clock)
    again = deliver_events(factory, HANDLERS, clock=clock)
    assert first["delivered"] == 2 and again["delivered"] == 0
    with factory() as session:
        drafts = session.scalars(select(Bulletin)).all()
        assert len(drafts) == 1
        draft = drafts[0]
        assert draft.source_ref == "playbook-run:41" and draft.kind.value == "alert"
        assert draft.tlp == "TLP:GREEN" and "198.51.100.9" not in values(draft)
        assert draft.created_by_id is None and draft.status is BulletinStatus.DRAFT
        assert session.scalars(select(BulletinIncident.incident_id)).all() == [incident_id]
