"""The centre rule on the indirect routes (``tests.incidents.centre_scene``): the queue's search,
its CSV export and a saved filter, the API list, the statistics and the dashboard (never the
centre-less daily aggregate for a sectoral analyst), the notifications inbox, an indicator's
sightings, the TAXII AMBER collection, a bulletin's source incidents, merging across centres,
the queue's bulk actions and a held message attached to an incident. An analyst of the finance
centre finds nothing of the health centre's incidents anywhere until one is shared with the
finance centre; a read share lets them read, not change. Both databases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bulletins.authoring.sources import draft_from_incidents, find_incidents
from core.clock import FrozenClock
from core.errors import NotFound, ValidationFailed
from core.identity.authz import Actor
from core.markings import Tlp
from incidents.mailbox import held
from incidents.mailbox.models import MailStatus
from incidents.models import IncidentStatus, ShareMode
from incidents.notifications.models import Notification, NotificationKind
from incidents.queue import bulk, saved_filters
from incidents.queue.filter import QueueFilter
from incidents.queue.page import queue_url
from incidents.reporting.dashboard import dashboard
from incidents.reporting.periods import Period
from incidents.sharing import stix_objects as so
from incidents.sharing.collections import COLLECTIONS, read_page
from incidents.sharing.shareable import Audience
from incidents.sharing.taxii_params import TAXII_MEDIA, parse_query
from tests.incidents import centre_scene
from tests.incidents.centre_scene import HEALTH_WORD, Centres
from tests.incidents.intel.context_scene import context, sighted
from tests.incidents.mailbox.held_scene import held_mail, mail_settings
from tests.kit.factories import INFECTED_HOST, SETTINGS, report
from tests.kit.web import logout, sign_in, text
from tests.kit.world import World

AMBER = next(c for c in COLLECTIONS if c.level is Tlp.AMBER)


@pytest.fixture
def centres(
    db_session: Session, clock: FrozenClock, settings: dict[str, Any], world: World
) -> Centres:
    return centre_scene.build(db_session, clock, world, Path(settings["upload_dir"]))


def page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, text(response)
    return text(response)


def test_search_csv_saved_filter_and_api_list(
    app: Flask, client: FlaskClient, centres: Centres, db_session: Session, clock: FrozenClock,
    world: World,
) -> None:  # fmt: skip
    health, finance = centres.health, centres.finance
    headers = world.headers(centres.finance_analyst)
    saved = saved_filters.save_filter(
        db_session, Actor.for_user(centres.finance_analyst), "Santé",
        QueueFilter(q=HEALTH_WORD), clock=clock,
    )  # fmt: skip
    with app.test_request_context():
        saved_url = queue_url(saved_filters.filter_of(saved))
    sign_in(client, centres.finance_analyst)

    def finds_health() -> list[bool]:
        api = client.get(f"/api/v1/incidents?q={HEALTH_WORD}", headers=headers).get_json()
        return [
            health.reference in page(client, f"/queue?q={HEALTH_WORD}"),
            health.reference in page(client, saved_url),
            health.reference in page(client, "/queue.csv"),
            HEALTH_WORD in page(client, "/queue.csv"),
            [i["reference"] for i in api["items"]] == [health.reference],
        ]

    assert finds_health() == [False] * 5
    assert finance.reference in page(client, "/queue.csv")
    centre_scene.share(db_session, health, centres.finance_centre, ShareMode.READ)
    assert finds_health() == [True] * 5
    centre_scene.unshare(db_session, health, centres.finance_centre)
    assert finds_health() == [False] * 5
    logout(client)
    sign_in(client, centres.national)  # the national centre sees both
    both = page(client, "/queue.csv")
    assert health.reference in both and finance.reference in both


def test_statistics_and_dashboard_count_what_each_sees(
    client: FlaskClient, centres: Centres, db_session: Session, clock: FrozenClock
) -> None:
    today = clock.now().date()
    span = f"from={today - dt.timedelta(days=7)}&to={today}"
    # finance, its peer and the TLP:RED health incident it is assigned; health and its peer;
    # the national analyst every incident but the TLP:RED one; the lead all five
    expected = {
        centres.finance_analyst: 3, centres.health_analyst: 2, centres.national: 4,
        centres.participant: 4, centres.lead: 5,
    }  # fmt: skip
    for user, count in expected.items():
        sign_in(client, user)
        stats = client.get(f"/stats.json?{span}&centre=").get_json()  # every centre they see
        assert stats["total"]["incidents"] == count, user.email
        if user in (centres.finance_analyst, centres.health_analyst):  # by default: their centre
            own = client.get(f"/stats.json?{span}").get_json()
            assert own["total"]["incidents"] == 2, user.email
        logout(client)
        period = Period(today - dt.timedelta(days=7), today, "Africa/Casablanca")
        for daily in (True, False):  # the aggregate has no centre: never read for a centre
            board = dashboard(
                db_session, Actor.for_user(user), period, now=clock.now(), daily=daily
            )
            assert board.overall.count == count, (user.email, daily)


def test_the_inbox_shows_no_title_of_an_incident_no_longer_shared(
    client: FlaskClient, centres: Centres, db_session: Session, clock: FrozenClock
) -> None:
    health, finance_centre = centres.health, centres.finance_centre
    centre_scene.share(db_session, health, finance_centre, ShareMode.READ)
    db_session.add(
        Notification(
            user_id=centres.finance_analyst.id, incident_id=health.id,
            kind=NotificationKind.ASSIGNED, created_at=clock.now(),
        )
    )  # fmt: skip
    db_session.flush()
    sign_in(client, centres.finance_analyst)
    assert HEALTH_WORD in page(client, "/notifications")
    centre_scene.unshare(db_session, health, finance_centre)
    inbox = page(client, "/notifications")
    assert HEALTH_WORD not in inbox and f"/incidents/{health.reference}" not in inbox


def test_an_indicator_lists_sightings_of_the_centres_incidents_only(
    client: FlaskClient, centres: Centres, db_session: Session, clock: FrozenClock
) -> None:
    indicator = context(db_session)
    at_health = report(db_session, clock, centres.reporter, INFECTED_HOST, title="Poste santé")
    at_bank = report(db_session, clock, centres.bank, INFECTED_HOST, title="Poste banque")
    for incident in (at_health, at_bank):
        sighted(db_session, clock, incident)
    db_session.flush()
    sign_in(client, centres.finance_analyst)
    shown = page(client, f"/intel/indicators/{indicator.id}")
    assert at_bank.reference in shown and at_health.reference not in shown
    logout(client)
    sign_in(client, centres.health_analyst)
    shown = page(client, f"/intel/indicators/{indicator.id}")
    assert at_health.reference in shown and at_bank.reference not in shown


def _amber_values(session: Session, audience: Audience) -> set[str]:
    query = parse_query({"match[type]": ["indicator"]})
    producer = so.Producer("MACERT", "maCERT")
    found = read_page(session, audience, AMBER, query, producer=producer)
    return {e.obj["pattern"].split("'")[1] for e in found.entries}


def test_taxii_amber_collection_follows_the_centres(
    client: FlaskClient, centres: Centres, db_session: Session, world: World
) -> None:
    health = centres.health  # TLP:AMBER
    value = next(o.value for o in health.observables if o.value.startswith("evil-"))
    finance_only = Audience(True, None, frozenset({centres.finance_centre.id}))
    assert value in _amber_values(db_session, Audience(True, None))  # every centre
    assert value not in _amber_values(db_session, finance_only)
    centre_scene.share(db_session, health, centres.finance_centre, ShareMode.READ)
    assert value in _amber_values(db_session, finance_only)
    centre_scene.unshare(db_session, health, centres.finance_centre)
    # through the server: the token's account's centres
    url = f"/taxii2/vigie/collections/{AMBER.id}/objects/"
    for user, seen in ((centres.finance_analyst, False), (centres.health_analyst, True)):
        headers = {**world.headers(user), "Accept": TAXII_MEDIA}
        response = client.get(url, headers=headers)
        assert response.status_code == 200, text(response)
        assert (value in text(response)) is seen, user.email


def test_a_bulletin_names_only_the_source_incidents_the_reader_sees(
    client: FlaskClient, centres: Centres, db_session: Session, clock: FrozenClock
) -> None:
    health, finance = centres.health, centres.finance
    refs = [health.reference, finance.reference]
    finance_actor = Actor.for_user(centres.finance_analyst)
    with pytest.raises(NotFound):
        find_incidents(db_session, finance_actor, refs)
    bulletin = draft_from_incidents(
        db_session, Actor.for_user(centres.lead), refs, kind="alert", tlp="TLP:GREEN", clock=clock
    )
    db_session.flush()
    sign_in(client, centres.finance_analyst)
    shown = page(client, f"/bulletins/{bulletin.id}")
    assert finance.reference in shown and health.reference not in shown


def test_merging_into_another_centres_incident(
    client: FlaskClient, centres: Centres, db_session: Session, clock: FrozenClock, world: World
) -> None:
    """Into an incident one may not see: 404; seen read-only: 403; worked: merged."""
    health = centres.health
    moved = report(
        db_session,
        clock,
        centres.reporter,
        tlp="TLP:AMBER",
        state={"centre_id": centres.finance_centre.id},
    )  # fmt: skip — the Health ministry's, in the finance centre (transferred)
    headers = world.headers(centres.finance_analyst)
    url, body = f"/api/v1/incidents/{moved.reference}/merge", {"into": health.reference}
    health_headers = world.headers(centres.health_analyst)
    back = client.post(
        f"/api/v1/incidents/{health.reference}/merge",
        json={"into": moved.reference},
        headers=health_headers,
    )
    assert back.status_code == 404
    assert client.post(url, json=body, headers=headers).status_code == 404
    centre_scene.share(db_session, health, centres.finance_centre, ShareMode.READ)
    assert client.post(url, json=body, headers=headers).status_code == 403
    centre_scene.share(db_session, health, centres.finance_centre, ShareMode.WORK)
    merged = client.post(url, json=body, headers=headers)
    assert merged.status_code == 200, text(merged)
    db_session.expire_all()
    assert moved.status is IncidentStatus.DUPLICATE and moved.duplicate_of_id == health.id


def test_bulk_actions_change_only_what_the_actor_works(
    centres: Centres, db_session: Session, clock: FrozenClock
) -> None:
    health, finance_centre = centres.health, centres.finance_centre
    actor = Actor.for_user(centres.finance_analyst)

    def assign_me() -> dict[str, str]:
        action = bulk.BulkAction("assign_me", confirmed=True)
        wanted = [health.reference, centres.finance.reference]
        return bulk.apply(db_session, actor, wanted, action, clock=clock, settings=SETTINGS)

    assert assign_me() == {health.reference: "not found"}
    centre_scene.share(db_session, health, finance_centre, ShareMode.READ)
    assert assign_me() == {health.reference: "read-only"}
    assert health.assignee_id is None
    centre_scene.share(db_session, health, finance_centre, ShareMode.WORK)
    assert assign_me() == {}
    assert health.assignee_id == centres.finance_analyst.id


def test_held_mail_is_attached_only_to_an_incident_the_analyst_works(
    centres: Centres, db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    settings = mail_settings(tmp_path)
    mail = held_mail(db_session, clock, settings)
    actor = Actor.for_user(centres.finance_analyst)
    health = centres.health

    def attach() -> dict[str, str]:
        with pytest.raises(ValidationFailed) as caught:
            held.attach_to_incident(
                db_session, actor, mail, reference=health.reference, note=None, clock=clock,
                settings=settings,
            )  # fmt: skip
        return dict(caught.value.fields)

    assert "no such incident" in str(attach()["reference"])
    centre_scene.share(db_session, health, centres.finance_centre, ShareMode.READ)
    assert "read-only" in str(attach()["reference"])
    assert mail.status is MailStatus.HELD
    centre_scene.share(db_session, health, centres.finance_centre, ShareMode.WORK)
    held.attach_to_incident(
        db_session, actor, mail, reference=health.reference, note=None, clock=clock,
        settings=settings,
    )  # fmt: skip
    assert mail.incident_id == health.id


def test_the_file_says_when_it_is_shared_read_only(
    client: FlaskClient, centres: Centres, db_session: Session
) -> None:
    health, url = centres.health, f"/incidents/{centres.health.reference}"
    sign_in(client, centres.finance_analyst)
    assert client.get(url).status_code == 404
    centre_scene.share(db_session, health, centres.finance_centre, ShareMode.READ)
    shown = page(client, url)
    assert "vigie-read-only" in shown and 'id="file-status"' not in shown
    assert "vigie-file-quick" not in shown  # nor the header's quick status/priority/assignee
    centre_scene.share(db_session, health, centres.finance_centre, ShareMode.WORK)
    shown = page(client, url)
    assert "vigie-read-only" not in shown and 'id="file-status"' in shown
    assert "vigie-file-quick" in shown
