"""The distribution pages on both databases: leads manage lists (CSRF, each refusal under its
field), an organisation's account manages the extra addresses of its own list and cannot see or
touch another's (404) nor the lead's pages (403); the publish page shows the recipients by
language, the refused ones with the button disabled, previews in each language, refuses to
publish across the TLP (nothing published or queued), and publishes; the delivery status page."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bulletins.models import Bulletin, BulletinDelivery, BulletinStatus, ListKind, ListMember
from core.clock import FrozenClock
from core.outbox import OutboxMessage
from tests.bulletins.lists import make_list
from tests.bulletins.test_distribution_sending import approved
from tests.kit.web import csrf_token, text
from tests.kit.world import World


def _contacts(world: World) -> None:
    world.interieur.contact_emails = ["soc@interieur.gov.ma"]
    world.sante.contact_emails = ["soc@sante.gov.ma"]


def test_a_lead_creates_a_list_and_manages_its_members(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    _contacts(world)
    world.sign_in(client, world.lead)
    page = client.get("/bulletins/lists")
    assert page.status_code == 200 and "Listes de diffusion" in text(page)
    token = csrf_token(text(page))
    bad = client.post(
        "/bulletins/lists",
        data={
            "csrf_token": token,
            "slug": "Pas Bon",
            "name": "X",
            "kind": "organisation",
            "digest": "none",
            "language": "fr",
        },
    )
    assert bad.status_code == 422
    assert "minuscules" in text(bad) and "une liste d&#39;organisme doit" in text(bad)
    no_csrf = client.post(
        "/bulletins/lists",
        data={"slug": "vip", "name": "VIP", "kind": "named", "digest": "none", "language": "fr"},
    )
    assert no_csrf.status_code in (400, 422)
    made = client.post(
        "/bulletins/lists",
        data={
            "csrf_token": token,
            "slug": "interieur",
            "name": "Intérieur",
            "kind": "organisation",
            "organisation": world.interieur.slug,
            "digest": "none",
            "language": "fr",
        },
    )
    assert made.status_code == 302 and made.location.endswith("/bulletins/lists/interieur")
    detail = client.get("/bulletins/lists/interieur")
    assert "1 adresse" in text(detail)  # the security contact
    added = client.post(
        "/bulletins/lists/interieur/members",
        data={
            "csrf_token": token,
            "email": "DSI@interieur.gov.ma",
            "name": "DSI",
            "language": "ar",
        },
    )
    assert added.status_code == 302
    twice = client.post("/bulletins/lists/interieur/members", data={
        "csrf_token": token, "email": "dsi@interieur.gov.ma", "language": ""})  # fmt: skip
    assert twice.status_code == 422 and "déjà sur la liste" in text(twice)
    detail = client.get("/bulletins/lists/interieur")
    assert "dsi@interieur.gov.ma" in text(detail) and "2 adresses" in text(detail)
    removed = client.post("/bulletins/lists/interieur/members/remove",
                          data={"csrf_token": token, "email": "dsi@interieur.gov.ma"})  # fmt: skip
    assert removed.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(ListMember)) == 0
    assert 'href="/bulletins/lists"' in text(client.get("/"))  # in the Administration menu


def test_an_organisation_manages_its_own_extra_addresses_only(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    _contacts(world)
    make_list(db_session, clock, "interieur", ListKind.ORGANISATION,
              organisation_id=world.interieur.id)  # fmt: skip
    make_list(db_session, clock, "sante", ListKind.ORGANISATION, organisation_id=world.sante.id,
              members=[{"email": "dsi@sante.gov.ma"}])  # fmt: skip
    make_list(db_session, clock, "vip", ListKind.NAMED)
    world.sign_in(client, world.reporter)
    mine = client.get("/bulletins/my-lists")
    assert mine.status_code == 200 and "/bulletins/lists/interieur" in text(mine)
    assert "/bulletins/lists/sante" not in text(mine)
    token = csrf_token(text(mine))
    assert client.get("/bulletins/lists").status_code == 403
    assert client.get("/bulletins/lists/sante").status_code == 404
    assert client.get("/bulletins/lists/vip").status_code == 404
    assert (
        client.post(
            "/bulletins/lists/sante/members/remove",
            data={"csrf_token": token, "email": "dsi@sante.gov.ma"},
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/bulletins/lists/sante/members", data={"csrf_token": token, "email": "x@sante.gov.ma"}
        ).status_code
        == 404
    )
    assert client.post("/bulletins/lists/interieur/delete",
                       data={"csrf_token": token}).status_code == 403  # fmt: skip
    own = client.get("/bulletins/lists/interieur")
    assert own.status_code == 200 and "Supprimer cette liste" not in text(own)
    added = client.post("/bulletins/lists/interieur/members",
                        data={"csrf_token": token, "email": "dsi@interieur.gov.ma"})  # fmt: skip
    assert added.status_code == 302
    emails = sorted(db_session.scalars(select(ListMember.email)))
    assert emails == ["dsi@interieur.gov.ma", "dsi@sante.gov.ma"]
    assert client.get("/bulletins/1/publish").status_code == 403
    assert client.get("/bulletins/1/deliveries").status_code == 403


def test_the_publish_page_shows_refusals_and_publishes_nothing_across_the_tlp(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    _contacts(world)
    make_list(db_session, clock, "all", ListKind.ALL)
    bulletin = approved(db_session, clock, world, tlp="amber", lists=["all"],
                        organisations=[world.interieur.slug])  # fmt: skip
    world.sign_in(client, world.lead)
    page = client.get(f"/bulletins/{bulletin.id}/publish")
    body = text(page)
    assert page.status_code == 200
    assert "soc@sante.gov.ma" in body and "ne va qu&#39;aux organismes concernés" in body
    assert "Le TLP refuse 1 destinataire" in body
    assert 'class="btn btn-danger" disabled' in body
    assert "[TLP:AMBER] MACERT-AVI-2026-0001 — Vulnérabilité dans FortiOS" in body
    refused = client.post(f"/bulletins/{bulletin.id}/publish",
                          data={"csrf_token": csrf_token(body)})  # fmt: skip
    assert refused.status_code == 422 and "soc@sante.gov.ma" in text(refused)
    assert "Rien n&#39;a été publié" in text(refused)
    db_session.expire_all()
    assert db_session.get(Bulletin, bulletin.id).status == BulletinStatus.APPROVED  # type: ignore[union-attr]
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_publish_page_publishes_and_the_deliveries_show_each_recipient(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    _contacts(world)
    make_list(db_session, clock, "interieur", ListKind.ORGANISATION,
              organisation_id=world.interieur.id,
              members=[{"email": "dsi@interieur.gov.ma", "language": "ar"}])  # fmt: skip
    bulletin = approved(db_session, clock, world, tlp="amber", lists=["interieur"],
                        organisations=[world.interieur.slug])  # fmt: skip
    world.sign_in(client, world.lead)
    page = client.get(f"/bulletins/{bulletin.id}/publish")
    body = text(page)
    assert "soc@interieur.gov.ma" in body and "dsi@interieur.gov.ma" in body
    assert "العربية" in body and "[TLP:AMBER] MACERT-AVI-2026-0001 — ثغرة في FortiOS" in body
    assert " disabled" not in body.split("Publier et envoyer</button>")[0].rsplit("<button", 1)[1]
    done = client.post(f"/bulletins/{bulletin.id}/publish", data={"csrf_token": csrf_token(body)})
    assert done.status_code == 302
    db_session.expire_all()
    assert db_session.get(Bulletin, bulletin.id).reference == "MACERT-AVI-2026-0001"  # type: ignore[union-attr]
    assert db_session.scalar(select(func.count()).select_from(BulletinDelivery)) == 2
    deliveries = client.get(f"/bulletins/{bulletin.id}/deliveries")
    assert deliveries.status_code == 200
    assert "dsi@interieur.gov.ma" in text(deliveries) and "En attente d'envoi" in text(deliveries)
    assert "Ministère de l" in text(deliveries) and "وزارة الداخلية" not in text(deliveries)
    again = client.get(f"/bulletins/{bulletin.id}/publish")
    assert "Seul un bulletin approuvé est publié" in text(again)
    assert client.get("/bulletins/999/deliveries").status_code == 404
    arabic = text(client.get(f"/bulletins/{bulletin.id}/deliveries?lang=ar"))
    assert "وزارة الداخلية" in arabic  # the organisation's Arabic name on the Arabic page
