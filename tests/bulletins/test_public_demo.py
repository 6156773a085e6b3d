"""``cert demo``'s bulletins on both databases: realistic published bulletins written by the demo
analyst and approved by the demo coordinator, lists, no e-mail, idempotent — and the archive,
the feed and the API show them."""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree as ET

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bulletins import demo
from bulletins.audience import resolve
from bulletins.models import (
    Bulletin,
    BulletinDelivery,
    BulletinKind,
    BulletinRevision,
    DistributionList,
    ListKind,
)
from cert.cli.demo import seed_accounts
from core.auth import services as accounts
from core.clock import FrozenClock
from core.config import Config
from core.identity.authz import Actor
from core.outbox import OutboxMessage
from tests.kit.api import bearer
from tests.kit.factories import make_token

SYSTEM = Actor.system("test")


def test_cert_demo_publishes_realistic_bulletins_once_without_mail(
    db_session: Session, clock: FrozenClock, client: FlaskClient
) -> None:
    clock.set(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC))  # the demo goes 20 days back
    seed_accounts(db_session, SYSTEM, clock, {})
    summary = demo.seed(db_session, SYSTEM, clock, Config())
    assert (
        summary == "demo bulletins: 4 published, 0 already present; 4 distribution list(s) created"
    )
    again = demo.seed(db_session, SYSTEM, clock, Config())
    assert again == "demo bulletins: 0 published, 4 already present; 0 distribution list(s) created"
    rows = db_session.scalars(select(Bulletin).order_by(Bulletin.published_at)).all()
    assert [(b.kind, b.tlp) for b in rows] == [
        (BulletinKind.ADVISORY, "TLP:CLEAR"),
        (BulletinKind.ADVISORY, "TLP:CLEAR"),
        (BulletinKind.ALERT, "TLP:GREEN"),
        (BulletinKind.DIGEST, "TLP:CLEAR"),
    ]
    assert [b.reference for b in rows] == [
        "MACERT-AVI-2026-0001", "MACERT-AVI-2026-0002", "MACERT-ALE-2026-0001",
        "MACERT-DIG-2026-0001",
    ]  # fmt: skip
    analyst = accounts.find_user(db_session, demo.AUTHOR)
    lead = accounts.find_user(db_session, demo.PUBLISHER)
    assert analyst is not None and lead is not None
    assert {(b.created_by_id, b.approved_by_id) for b in rows} == {(analyst.id, lead.id)}
    fortios, _, alert, digest = rows
    assert {t.language for t in fortios.texts} == {"fr", "en", "ar"}
    assert fortios.revision == 2 and "CVE-2024-21762" in fortios.cves
    [second] = db_session.scalars(
        select(BulletinRevision).where(
            BulletinRevision.bulletin_id == fortios.id, BulletinRevision.number == 2
        )
    ).all()
    assert second.summary.startswith("Ajout de FortiProxy")
    assert len(alert.indicators) == 8 and {i["type"] for i in alert.indicators} >= {
        "ipv4", "domain", "url", "sha256", "email"
    }  # fmt: skip
    assert fortios.reference in (digest.text("fr") or digest.texts[0]).summary
    lists = db_session.scalars(select(DistributionList).order_by(DistributionList.slug)).all()
    kinds = {ListKind.ALL, ListKind.SECTOR, ListKind.CENTRE, ListKind.NAMED}
    assert {dl.kind for dl in lists} == kinds
    centre = next(dl for dl in lists if dl.kind == ListKind.CENTRE)
    sante = {r.email for r in resolve(db_session, [centre])}
    assert sante == {"securite@sante.gov.ma", "securite@cnss.ma"}  # health sector + the CNSS
    named = next(dl for dl in lists if dl.kind == ListKind.NAMED)
    assert len(named.members) == 3 and all(m.organisation_id for m in named.members)
    # publication through the authoring services: no e-mail queued, no delivery
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert db_session.scalar(select(func.count()).select_from(BulletinDelivery)) == 0

    public = ["MACERT-AVI-2026-0001", "MACERT-AVI-2026-0002", "MACERT-DIG-2026-0001"]
    html = client.get("/advisories?lang=fr").get_data(as_text=True)
    assert all(ref in html for ref in public) and "MACERT-ALE-2026-0001" not in html
    assert "Vulnérabilités critiques dans FortiOS" in html
    page = client.get("/advisories/MACERT-AVI-2026-0001?lang=ar").get_data(as_text=True)
    assert "ثغرات حرجة في نظام FortiOS" in page and "FortiProxy" in page
    feed = ET.fromstring(client.get("/advisories/feed.rss").data)  # noqa: S314
    assert sorted(i.findtext("guid") or "" for i in feed.findall("channel/item")) == public
    reporter = accounts.find_user(db_session, "rssi@interieur.gov.ma")
    assert reporter is not None
    token = make_token(db_session, clock, reporter)[1]
    listed = client.get("/api/v1/bulletins", headers=bearer(token)).get_json()
    assert listed["total"] == 4 and listed["items"][0]["reference"] == "MACERT-DIG-2026-0001"
    alert_json = client.get("/api/v1/bulletins/MACERT-ALE-2026-0001", headers=bearer(token))
    assert alert_json.get_json()["indicators"][0] == {
        "type": "domain", "value": "webmail-interieur-gov.ma"
    }  # fmt: skip
