"""The queue's bulk bar asks what the incident file asks (issue 17): rejected and duplicate need
the reason (and the original), applied to each; resolving unassigned incidents an owner; an
assignment that takes incidents from other analysts says how many and from whom, and waits for
a confirmed re-submit. All or nothing, on the real page."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.clock import FrozenClock
from incidents.models import Incident, IncidentStatus
from incidents.workspace import workflow
from tests.kit.factories import SETTINGS, report
from tests.kit.web import csrf_token, sign_in, text
from tests.kit.world import World


def post(client: FlaskClient, references: list[str], **fields: str) -> str:
    token = csrf_token(text(client.get("/queue")))
    data = {"csrf_token": token, "incident": references, "back": "/queue", **fields}
    response = client.post("/queue/bulk", data=data, follow_redirects=True)
    assert response.status_code == 200
    return text(response)


def audits(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def statuses(session: Session, incidents: list[Incident]) -> list[str]:
    session.expire_all()
    return [str(session.get(Incident, i.id).status) for i in incidents]  # type: ignore[union-attr]


def test_bulk_duplicate_needs_the_reason_and_the_original(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    sign_in(client, world.analyst)
    urgent = [report(db_session, clock, world.reporter, impact="critical", urgency="critical")]
    urgent.append(report(db_session, clock, world.reporter))
    original = report(db_session, clock, world.reporter)
    refs = [i.reference for i in urgent]
    before = audits(db_session)
    html = post(client, refs, action="status", status="duplicate")  # today: closed them all
    assert "Aucune modification n’a été effectuée" in html
    assert "Motif : obligatoire" in html  # in the reader's language, field and problem
    assert "Incident d’origine : indiquez la référence de l’incident original" in html
    assert "reason: required" not in html and "duplicate_of: give" not in html
    html = post(client, refs, action="status", status="duplicate", reason="Campagne connue")
    assert "Incident d’origine : indiquez la référence de l’incident original" in html
    html = post(
        client, [*refs, original.reference], action="status", status="duplicate",
        reason="Campagne connue", duplicate_of=original.reference,
    )  # fmt: skip
    assert "ne peut pas être son propre doublon" in html
    assert statuses(db_session, [*urgent, original]) == ["new", "new", "new"]
    assert audits(db_session) == before  # nothing written
    post(
        client, refs, action="status", status="duplicate", reason="Campagne connue",
        duplicate_of=original.reference,
    )  # fmt: skip
    assert statuses(db_session, urgent) == ["duplicate", "duplicate"]
    for incident in urgent:
        db_session.refresh(incident)
        assert incident.duplicate_of_id == original.id


def test_bulk_rejection_applies_the_one_reason_to_each(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    sign_in(client, world.analyst)
    chosen = [report(db_session, clock, world.reporter) for _ in range(2)]
    html = post(client, [i.reference for i in chosen], action="status", status="rejected")
    assert "Motif : obligatoire" in html
    assert statuses(db_session, chosen) == ["new", "new"]
    post(
        client, [i.reference for i in chosen], action="status", status="rejected",
        reason="Tests de l'équipe interne",
    )  # fmt: skip
    assert statuses(db_session, chosen) == ["rejected", "rejected"]
    for incident in chosen:
        page = text(client.get(f"/track/{incident.reference}"))
        assert "Tests de l&#39;équipe interne" in page or "Tests de l'équipe interne" in page


def test_bulk_resolve_asks_an_owner_for_the_unassigned(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    sign_in(client, world.analyst)
    owned, unowned = (report(db_session, clock, world.reporter) for _ in range(2))
    analyst = world.actor(world.analyst)
    for incident in (owned, unowned):
        workflow.change_status(
            db_session, analyst, incident, "triaged", clock=clock, settings=SETTINGS
        )
    workflow.assign(db_session, analyst, owned, world.analyst2, clock=clock)
    db_session.commit()
    refs = [owned.reference, unowned.reference]
    html = post(client, refs, action="status", status="resolved", resolution="Bloqué")
    assert f"{unowned.reference} — Attribué à : un incident non attribué doit avoir" in html
    assert statuses(db_session, [owned, unowned]) == ["triaged", "triaged"]
    post(
        client, refs, action="status", status="resolved", resolution="Bloqué",
        assignee=world.analyst.email,
    )  # fmt: skip
    assert statuses(db_session, [owned, unowned]) == ["resolved", "resolved"]
    db_session.refresh(owned)
    db_session.refresh(unowned)
    assert (owned.assignee_id, unowned.assignee_id) == (world.analyst2.id, world.analyst.id)


def test_taking_incidents_from_other_analysts_asks_to_confirm(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    lead = world.actor(world.lead)
    theirs = [report(db_session, clock, world.reporter) for _ in range(3)]
    mine = report(db_session, clock, world.reporter)
    free = report(db_session, clock, world.reporter)
    for incident, who in zip(theirs, (world.analyst2, world.analyst2, world.lead), strict=True):
        workflow.assign(db_session, lead, incident, who, clock=clock)
    workflow.assign(db_session, lead, mine, world.analyst, clock=clock)
    db_session.commit()
    sign_in(client, world.analyst)
    refs = [i.reference for i in (*theirs, mine, free)]
    before = audits(db_session)
    html = post(client, refs, action="assign_me")
    assert "vigie-bulk-confirm" in html
    taken = re.findall(r"<li><bdi>([^<]+)</bdi> — (\d+)", html)
    assert sorted(taken) == [("Hicham Lead", "1"), ("Youssef Analyste", "2")]
    assert audits(db_session) == before
    db_session.expire_all()
    assert [db_session.get(Incident, i.id).assignee_id for i in theirs] == [  # type: ignore[union-attr]
        world.analyst2.id, world.analyst2.id, world.lead.id,
    ]  # fmt: skip
    # nothing taken from anyone (mine and free): no question
    html = post(client, [mine.reference, free.reference], action="assign_me")
    assert "vigie-bulk-confirm" not in html
    # the confirmation page sends the same choice again, confirmed
    form = re.search(
        r'<form method="post" action="/queue/bulk".*?</form>',
        html_again := post(client, refs, action="assign_me"),
        re.S,
    )
    assert form
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(0)))
    assert fields["confirmed"] == "1" and fields["action"] == "assign_me"
    sent = re.findall(r'name="incident" value="([^"]+)"', form.group(0))
    assert sent == refs and "vigie-bulk-confirm" in html_again
    response = client.post("/queue/bulk", data={**fields, "incident": sent}, follow_redirects=True)
    assert response.status_code == 200
    db_session.expire_all()
    assert {db_session.get(Incident, i.id).assignee_id for i in (*theirs, mine, free)} == {  # type: ignore[union-attr]
        world.analyst.id
    }
    assert IncidentStatus.NEW  # statuses untouched by an assignment
