"""``/api/v1/playbooks/<id>/triggers|schedules`` and ``/api/v1/playbooks/triggers|schedules/<id>``
on both databases: staff read, leads write, 422 naming the field, PATCH moves the next slot,
DELETE keeps nothing but the runs."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from playbooks.models import PlaybookSchedule, PlaybookTrigger
from tests.kit.api import bearer, envelope
from tests.playbooks.automation_kit import check_playbook, response_playbook


def test_triggers_api(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    reporter_token: str,
    analyst_token: str,
    lead_token: str,
) -> None:
    playbook = response_playbook(db_session, clock)
    url = f"/api/v1/playbooks/{playbook.id}/triggers"
    body = {"event": "created", "conditions": {"categories": ["fraud"], "min_priority": "P2"}}
    envelope(client.post(url, json=body, headers=bearer(analyst_token)), 403, "forbidden")
    envelope(client.get(url, headers=bearer(reporter_token)), 403)
    envelope(
        client.post("/api/v1/playbooks/999999/triggers", json=body, headers=bearer(lead_token)), 404
    )
    bad = {"event": "created", "conditions": {"types": ["ransomware"], "statuses": ["closed"]}}
    error = envelope(client.post(url, json=bad, headers=bearer(lead_token)), 422)
    assert set(error["fields"]) == {"conditions.types"}
    assert error["fields"]["conditions.types"].startswith("unknown RSIT type 'ransomware'")
    error = envelope(
        client.post(
            url, json={**bad, "conditions": {"statuses": ["closed"]}}, headers=bearer(lead_token)
        ),
        422,
    )
    assert "only to the event 'status'" in error["fields"]["conditions.statuses"]
    assert db_session.scalar(select(func.count()).select_from(PlaybookTrigger)) == 0

    made = client.post(url, json=body, headers=bearer(lead_token))
    assert made.status_code == 201, made.get_json()
    trigger = made.get_json()
    assert trigger["conditions"] == {"categories": ["fraud"], "min_priority": "P2"}
    assert trigger["playbook_id"] == playbook.id and trigger["last_fired_at"] is None
    listed = client.get(url, headers=bearer(analyst_token)).get_json()
    assert [t["id"] for t in listed["items"]] == [trigger["id"]] and listed["total"] == 1

    one = f"/api/v1/playbooks/triggers/{trigger['id']}"
    patched = client.patch(one, json={"enabled": False}, headers=bearer(lead_token)).get_json()
    assert patched["enabled"] is False and patched["conditions"] == trigger["conditions"]
    error = envelope(client.patch(one, json={"event": "exploded"}, headers=bearer(lead_token)), 422)
    assert "valid events" in error["fields"]["event"]
    error = envelope(client.patch(one, json={"colour": 1}, headers=bearer(lead_token)), 422)
    assert "colour" in error["fields"]
    assert client.delete(one, headers=bearer(lead_token)).status_code == 204
    envelope(client.delete(one, headers=bearer(lead_token)), 404)


def test_schedules_api(
    client: FlaskClient, db_session: Session, clock: FrozenClock, lead_token: str, world: object
) -> None:
    clock.set(dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC))
    before, after = check_playbook(db_session, clock), response_playbook(db_session, clock)
    wrong = client.post(
        f"/api/v1/playbooks/{after.id}/schedules",
        json={"cron": "0 7 * * *"},
        headers=bearer(lead_token),
    )
    assert "give it a trigger instead" in envelope(wrong, 422)["fields"]["playbook"]
    url = f"/api/v1/playbooks/{before.id}/schedules"
    error = envelope(
        client.post(
            url, json={"cron": "* * *", "organisation_ids": [424242]}, headers=bearer(lead_token)
        ),
        422,
    )
    assert set(error["fields"]) == {"cron"}
    error = envelope(
        client.post(
            url,
            json={"cron": "0 7 * * *", "organisation_ids": [424242]},
            headers=bearer(lead_token),
        ),
        422,
    )
    assert error["fields"] == {"organisation_ids": "no organisation with the id 424242"}
    made = client.post(url, json={"cron": "0 7 * * *"}, headers=bearer(lead_token))
    assert made.status_code == 201, made.get_json()
    schedule = made.get_json()
    assert schedule["timezone"] == "Africa/Casablanca" and schedule["organisation_ids"] is None
    assert schedule["next_fire_at"].startswith("2026-12-05T06:00")
    one = f"/api/v1/playbooks/schedules/{schedule['id']}"
    patched = client.patch(
        one, json={"cron": "30 20 * * *", "timezone": "UTC"}, headers=bearer(lead_token)
    ).get_json()
    assert patched["next_fire_at"].startswith("2026-12-04T20:30")
    assert client.delete(one, headers=bearer(lead_token)).status_code == 204
    assert db_session.scalar(select(func.count()).select_from(PlaybookSchedule)) == 0


def test_odd_bodies_are_422_never_500(
    client: FlaskClient, db_session: Session, clock: FrozenClock, lead_token: str
) -> None:
    playbook = response_playbook(db_session, clock)
    url = f"/api/v1/playbooks/{playbook.id}/triggers"
    for body, field in [
        (
            {"event": "created", "conditions": {"organisation_ids": [2**70]}},
            "conditions.organisation_ids[0]",
        ),
        ({"event": "created", "conditions": {"tlp": ["x" * 5000]}}, "conditions.tlp[0]"),
        ({"event": 5}, "event"),
        ({"event": "created", "conditions": []}, "conditions"),
        ({"event": "created", "enabled": "maybe"}, "enabled"),
    ]:
        error = envelope(client.post(url, json=body, headers=bearer(lead_token)), 422)
        assert field in error["fields"], error
    envelope(
        client.post(
            url, data="[", headers=bearer(lead_token, **{"Content-Type": "application/json"})
        ),
        400,
    )
