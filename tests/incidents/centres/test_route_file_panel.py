"""The incident file's "Centre" panel (issue 22), on both databases: the centre's name (in Arabic
in Arabic), its shares with their remove buttons, the transfer and share forms for those who work
the incident only; each action says what it did, and an analyst whom a transfer takes the
incident from goes to the queue with a notice naming the new centre, never to a 404 page."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from incidents.models import Incident, IncidentEvent, IncidentShare, ShareMode
from tests.incidents.centres.route_scene import Centres
from tests.incidents.file_helpers import act, token
from tests.kit.web import sign_in, text


def panel(html: str) -> str:
    match = re.search(r'<section class="card mb-4" id="centre".*?</section>', html, re.S)
    assert match, "no centre panel"
    return match.group(0)


def notices(html: str) -> list[str]:
    return re.findall(
        r'class="alert alert-\w+ vigie-notice[^>]*>\s*<span[^>]*>.</span>([^<]*)', html
    )


def state(session: Session, incident: Incident) -> tuple[int, int, int]:
    session.expire_all()
    row = session.get(Incident, incident.id)
    assert row is not None
    count = select(func.count())
    return (
        row.centre_id,
        session.scalar(count.where(IncidentEvent.incident_id == incident.id)) or 0,
        session.scalar(count.where(AuditEntry.object_id == incident.reference)) or 0,
    )


def test_the_panel_names_the_centre_in_the_pages_language_with_its_forms(
    client: FlaskClient, centres: Centres, incident: Incident
) -> None:
    sign_in(client, centres.nadia)
    shown = panel(text(client.get(f"/incidents/{incident.reference}")))
    assert "Centre de veille santé" in shown
    assert 'id="centre-transfer"' in shown and 'id="centre-share"' in shown
    # the incident's own centre is not offered; the others are
    assert '<option value="finance">Centre de veille finances</option>' in shown
    assert '<option value="sante">' not in shown
    arabic = panel(text(client.get(f"/incidents/{incident.reference}?lang=ar")))
    assert "مركز اليقظة للصحة" in arabic and "Centre de veille santé" not in arabic
    assert "Centre de veille finances" in arabic  # no Arabic name: the French one


def test_a_transfer_that_takes_it_away_goes_to_the_queue_naming_the_new_centre(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    sign_in(client, centres.nadia)
    reason = "Fraude au virement : compétence finances"
    ref = incident.reference
    response = act(client, ref, "transfer", "transfer", centre="finance", reason=reason)
    assert response.status_code == 302
    assert response.headers["Location"] == "/queue"
    queue = text(client.get("/queue"))
    assert incident.reference in queue and "Centre de veille finances" in queue
    assert client.get(f"/incidents/{incident.reference}").status_code == 404
    assert state(db_session, incident)[0] == centres.finance.id
    # the finance analyst finds it, with the transfer told on the timeline
    client.post("/logout", data={"csrf_token": token(client)})
    sign_in(client, centres.omar)
    html = text(client.get(f"/incidents/{incident.reference}"))
    assert "Centre de veille finances" in panel(html)
    timeline = html[html.index('id="timeline"') :] if 'id="timeline"' in html else html
    assert "Centre de veille santé" in timeline and reason in timeline


def test_a_transfer_by_who_still_sees_it_comes_back_to_the_panel(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    sign_in(client, centres.world.lead)
    ref = incident.reference
    response = act(client, ref, "transfer", "transfer", centre="finance", reason="Compétence")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/incidents/{ref}#centre"
    html = text(client.get(response.headers["Location"]))
    [said] = notices(html)
    assert "Centre de veille finances" in said
    assert "Centre de veille finances" in panel(html).split("<h3")[0]


def test_sharing_and_taking_back_from_the_panel(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    sign_in(client, centres.nadia)
    ref = incident.reference
    response = act(client, ref, "shares", "share", centre="finance", mode="work", reason="Appui")
    assert response.status_code == 302 and response.headers["Location"].endswith("#centre")
    html = text(client.get(response.headers["Location"]))
    [said] = notices(html)
    assert "Centre de veille finances" in said
    shown = panel(html)
    assert f'action="/incidents/{ref}/shares/finance/remove' in shown
    db_session.expire_all()
    share = db_session.scalars(select(IncidentShare)).one()
    assert (share.centre_id, share.mode, share.reason) == (
        centres.finance.id,
        ShareMode.WORK,
        "Appui",
    )
    response = client.post(
        f"/incidents/{ref}/shares/finance/remove", data={"csrf_token": token(client)}
    )
    assert response.status_code == 302
    html = text(client.get(response.headers["Location"]))
    assert len(notices(html)) == 1
    assert "/shares/finance/remove" not in panel(html)
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(IncidentShare)) == 0


def test_a_read_share_shows_the_panel_without_its_forms_and_refuses_its_actions(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    sign_in(client, centres.nadia)
    act(client, incident.reference, "shares", "share", centre="finance", mode="read", reason="Info")
    client.post("/logout", data={"csrf_token": token(client)})
    sign_in(client, centres.omar)
    page = client.get(f"/incidents/{incident.reference}")
    assert page.status_code == 200
    shown = panel(text(page))
    assert "Centre de veille santé" in shown and "Centre de veille finances" in shown
    assert "<form" not in shown
    before = state(db_session, incident)
    ref = incident.reference
    refused = act(client, ref, "transfer", "transfer", centre="finance", reason="À nous")
    assert refused.status_code == 403
    removal = client.post(
        f"/incidents/{incident.reference}/shares/finance/remove", data={"csrf_token": token(client)}
    )
    assert removal.status_code == 403
    assert state(db_session, incident) == before


def test_the_other_centre_gets_404_on_every_action_of_the_panel(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    sign_in(client, centres.omar)
    ref = incident.reference
    before = state(db_session, incident)
    assert client.get(f"/incidents/{ref}").status_code == 404
    assert act(client, ref, "transfer", "transfer", centre="finance", reason="x").status_code == 404
    shared = act(client, ref, "shares", "share", centre="finance", mode="work", reason="x")
    assert shared.status_code == 404
    removal = client.post(
        f"/incidents/{ref}/shares/finance/remove", data={"csrf_token": token(client)}
    )
    assert removal.status_code == 404
    assert state(db_session, incident) == before


@pytest.mark.parametrize(
    ("action", "prefix", "fields", "field_id"),
    [
        ("transfer", "transfer", {"centre": "finance", "reason": ""}, "transfer-reason"),
        ("transfer", "transfer", {"centre": "finance", "reason": "x" * 2001}, "transfer-reason"),
        ("transfer", "transfer", {"centre": "energie", "reason": "Motif"}, "transfer-centre"),
        ("transfer", "transfer", {"centre": "sante", "reason": "Motif"}, "transfer-centre"),
        (
            "shares",
            "share",
            {"centre": "finance", "mode": "admin", "reason": "Motif"},
            "share-mode",
        ),
        ("shares", "share", {"centre": "", "mode": "read", "reason": "Motif"}, "share-centre"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_with_nothing_written(
    client: FlaskClient,
    db_session: Session,
    centres: Centres,
    incident: Incident,
    action: str,
    prefix: str,
    fields: dict[str, str],
    field_id: str,
) -> None:
    sign_in(client, centres.nadia)
    before = state(db_session, incident)
    response = act(client, incident.reference, action, prefix, **fields)
    assert response.status_code == 422
    shown = panel(text(response))
    tag = re.search(rf'<(?:input|select)[^>]*id="{field_id}"[^>]*>', shown)
    assert tag and "is-invalid" in tag.group(0), shown
    assert state(db_session, incident) == before


def test_a_nul_character_is_refused_with_nothing_written(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    sign_in(client, centres.nadia)
    before = state(db_session, incident)
    ref = incident.reference
    response = act(client, ref, "transfer", "transfer", centre="finance", reason="a\x00b")
    assert response.status_code in {400, 422}
    assert state(db_session, incident) == before


def test_taking_back_without_the_csrf_token_is_refused(
    client: FlaskClient, db_session: Session, centres: Centres, incident: Incident
) -> None:
    sign_in(client, centres.nadia)
    act(client, incident.reference, "shares", "share", centre="finance", mode="read", reason="x")
    before = state(db_session, incident)
    response = client.post(f"/incidents/{incident.reference}/shares/finance/remove")
    assert response.status_code == 400
    assert state(db_session, incident) == before
