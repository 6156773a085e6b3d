"""Writing bulletins on both databases: drafts validated field by field, a second person
approves, publication numbers references without gaps per kind and year, published bulletins
change only by numbered revisions, and each publication records ``bulletin.published``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bulletins.authoring import services as svc
from bulletins.authoring.schemas import DraftIn
from bulletins.events import BulletinEventName
from bulletins.models import Bulletin, BulletinKind, BulletinRevision, BulletinStatus
from bulletins.rules.references import format_reference, parse_reference
from bulletins.settings import BulletinSettings
from core.clock import FrozenClock
from core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from core.events import DomainEvent
from core.identity.authz import Actor
from core.identity.models import Role
from tests.kit.world import World

SETTINGS = BulletinSettings(reference_prefix="MACERT")


def draft(**changes: Any) -> DraftIn:
    data: dict[str, Any] = {
        "kind": "advisory",
        "tlp": "clear",
        "risk": "critical",
        "impact": "important",
        "affected": [{"vendor": "Fortinet", "product": "FortiOS", "versions": "7.0 < 7.0.14"}],
        "cves": ["cve-2026-21762", "CVE-2026-21762"],
        "links": ["https://www.fortiguard.com/psirt/FG-IR-26-001"],
        "texts": {
            "fr": {"title": "Vulnérabilité dans FortiOS", "summary": "Une faille critique…",
                   "solution": "Appliquer le correctif.", "risks": "Exécution de code"},
            "ar": {"title": "ثغرة في FortiOS"},
        },
    }  # fmt: skip
    data.update(changes)
    return DraftIn.model_validate(data)


def people(world: World) -> tuple[Actor, Actor, Actor]:
    author = Actor.for_user(world.analyst)
    lead = Actor.for_user(world.lead)
    if not hasattr(world, "second_lead"):
        world.second_lead = world.user(role=Role.LEAD, email="nadia@cert.gov.ma")  # type: ignore[attr-defined]
    other_lead = Actor.for_user(world.second_lead)  # type: ignore[attr-defined]
    return author, lead, other_lead


def published(
    session: Session, clock: FrozenClock, world: World, **changes: Any
) -> tuple[Bulletin, BulletinRevision]:
    author, lead, _ = people(world)
    bulletin = svc.create_draft(session, author, draft(**changes), clock=clock)
    svc.submit(session, author, bulletin, clock=clock)
    svc.approve(session, lead, bulletin, clock=clock)
    return bulletin, svc.publish(session, lead, bulletin, clock=clock, settings=SETTINGS)


def test_a_draft_is_validated_field_by_field() -> None:
    parsed = draft()
    assert parsed.tlp == "TLP:CLEAR" and parsed.cves == ["CVE-2026-21762"]
    bad = {
        "cves": ["CVE-26-1"],
        "links": ["javascript:alert(1)"],
        "texts": {"en": {"title": "English only"}},
        "tlp": "TLP:PURPLE",
        "kind": "memo",
        "risk": "severe",
    }
    for field, value in bad.items():
        with pytest.raises(ValidationError) as caught:
            draft(**{field: value})
        assert caught.value.errors()[0]["loc"][0] == field, field
    with pytest.raises(ValidationError):
        draft(texts={"fr": {"title": ""}})
    with pytest.raises(ValidationError):
        draft(unknown=1)


def test_the_author_cannot_approve_and_a_second_lead_must(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    author, lead, other_lead = people(world)
    own = svc.create_draft(db_session, Actor.for_user(world.lead), draft(), clock=clock)
    svc.submit(db_session, Actor.for_user(world.lead), own, clock=clock)
    with pytest.raises(PermissionDenied):
        svc.approve(db_session, lead, own, clock=clock)  # wrote it
    svc.approve(db_session, other_lead, own, clock=clock)
    assert own.status == BulletinStatus.APPROVED and own.approved_by_id == other_lead.user_id
    bulletin = svc.create_draft(db_session, author, draft(), clock=clock)
    with pytest.raises(InvalidTransition):
        svc.approve(db_session, lead, bulletin, clock=clock)  # not submitted
    svc.submit(db_session, author, bulletin, clock=clock)
    with pytest.raises(PermissionDenied):
        svc.approve(db_session, author, bulletin, clock=clock)  # an analyst
    with pytest.raises(ValidationFailed):
        svc.send_back(db_session, lead, bulletin, "  ", clock=clock)
    svc.send_back(db_session, lead, bulletin, "Préciser les versions", clock=clock)
    assert bulletin.status == BulletinStatus.DRAFT
    with pytest.raises(InvalidTransition):
        svc.publish(db_session, lead, bulletin, clock=clock, settings=SETTINGS)


def test_references_have_no_gap_per_kind_and_year(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    author, _, _ = people(world)
    svc.create_draft(db_session, author, draft(), clock=clock)  # a draft takes no number
    first, _ = published(db_session, clock, world)
    second, _ = published(db_session, clock, world)
    alert, _ = published(db_session, clock, world, kind="alert")
    assert (first.reference, second.reference, alert.reference) == (
        f"MACERT-AVI-{clock.now().year}-0001",
        f"MACERT-AVI-{clock.now().year}-0002",
        f"MACERT-ALE-{clock.now().year}-0001",
    )
    clock.set(dt.datetime(clock.now().year + 1, 1, 1, 9, tzinfo=dt.UTC))
    next_year, _ = published(db_session, clock, world)
    assert next_year.reference == f"MACERT-AVI-{clock.now().year}-0001"
    assert parse_reference(next_year.reference or "")[1:] == (
        BulletinKind.ADVISORY,
        clock.now().year,
        1,
    )
    assert format_reference("MACERT", BulletinKind.NOTE, 2026, 12345) == "MACERT-NOT-2026-12345"
    with pytest.raises(ValueError, match="not a bulletin reference"):
        parse_reference("MACERT-2026-000042")


def test_a_published_bulletin_changes_only_by_a_numbered_revision(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    author, lead, _ = people(world)
    bulletin, first = published(db_session, clock, world)
    assert (first.number, first.summary, bulletin.revision) == (1, "Version initiale", 1)
    assert first.snapshot["texts"]["fr"]["title"] == "Vulnérabilité dans FortiOS"
    with pytest.raises(InvalidTransition):
        svc.update_draft(db_session, author, bulletin, draft(risk="low"), clock=clock)
    svc.revise(db_session, author, bulletin, clock=clock)
    changed = draft(texts={"fr": {"title": "Vulnérabilités dans FortiOS (mise à jour)"}})
    svc.update_draft(db_session, author, bulletin, changed, clock=clock)
    assert [t.language for t in bulletin.texts] == ["fr"]  # the Arabic version was dropped
    svc.submit(db_session, author, bulletin, clock=clock)
    svc.approve(db_session, lead, bulletin, clock=clock)
    with pytest.raises(ValidationFailed) as caught:
        svc.publish(db_session, lead, bulletin, clock=clock, settings=SETTINGS)
    assert "change" in caught.value.fields
    second = svc.publish(db_session, lead, bulletin, clock=clock, settings=SETTINGS,
                         change="Versions corrigées")  # fmt: skip
    assert (second.number, bulletin.revision, bulletin.reference) == (
        2,
        2,
        first.snapshot["reference"],
    )
    revisions = db_session.scalars(
        select(BulletinRevision).where(BulletinRevision.bulletin_id == bulletin.id)
        .order_by(BulletinRevision.number)
    ).all()  # fmt: skip
    assert [r.summary for r in revisions] == ["Version initiale", "Versions corrigées"]
    assert revisions[0].snapshot["texts"]["fr"]["title"] == "Vulnérabilité dans FortiOS"
    events = db_session.scalars(
        select(DomainEvent).where(DomainEvent.name == BulletinEventName.PUBLISHED)
    ).all()
    assert [e.payload["revision"] for e in events] == [1, 2]
