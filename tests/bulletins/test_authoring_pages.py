"""The authoring pages on both databases: who reaches them (reporters read the published
bulletins they may read, never a draft, a form or a workflow action), the staff list with its
tabs, filters and search, the form (every refusal next to its field, nothing half-written,
titles escaped), drafts from incidents and CVE lists, the four-eyes rule in the buttons and in
the POST, and the incident file's link."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bulletins.authoring import services as svc
from bulletins.models import Bulletin, BulletinStatus
from core.clock import FrozenClock
from tests.bulletins.test_authoring import SETTINGS, draft, people, published
from tests.kit.factories import report
from tests.kit.web import csrf_token, sign_in, text
from tests.kit.world import World

XSS = "<script>alert('x')</script> FortiOS"


def post(client: FlaskClient, url: str, data: dict[str, Any], page: str = "/bulletins") -> Any:
    token = csrf_token(text(client.get(page)))
    return client.post(url, data={"csrf_token": token, **data})


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Bulletin)) or 0)


def form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "advisory", "tlp": "TLP:GREEN", "risk": "critical", "impact": "important",
        "title-fr": "Vulnérabilité critique dans FortiOS", "summary-fr": "Une faille…",
        "solution-fr": "Mettre à jour.", "risks-fr": "Exécution de code à distance",
        "title-ar": "ثغرة حرجة في FortiOS", "summary-ar": "ثغرة…",
        "affected-0-vendor": "Fortinet", "affected-0-product": "FortiOS",
        "affected-0-versions": "7.0 < 7.0.14", "affected-1-vendor": "", "affected-1-product": "",
        "scores-1-version": "3.1",
        "cves": "cve-2026-21762\nCVE-2026-21763", "links": "https://fortiguard.com/psirt/1",
        "indicators": "ipv4 203.0.113.7\ndomain evil.example",
        "scores-0-cve": "CVE-2026-21762", "scores-0-version": "3.1", "scores-0-base_score": "9.8",
        "scores-0-vector": "CVS:3.1/AV:N", "organisations": ["min-interieur"],
    }  # fmt: skip
    data.update(changes)
    return data


def test_reporters_read_published_bulletins_and_reach_nothing_else(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    assert world.sante.slug == "min-sante"
    green, _ = published(
        db_session, clock, world, tlp="green", texts={"fr": {"title": "Alerte publiée verte"}}
    )
    published(
        db_session,
        clock,
        world,
        tlp="amber",
        organisations=["min-sante"],
        texts={"fr": {"title": "Alerte ambre santé"}},
    )
    author, lead, _ = people(world)
    draft_row = svc.create_draft(
        db_session,
        author,
        draft(tlp="green", texts={"fr": {"title": "Brouillon secret"}}),
        clock=clock,
    )
    svc.revise(db_session, author, green, clock=clock)  # a revision in progress
    svc.update_draft(
        db_session,
        author,
        green,
        draft(tlp="green", texts={"fr": {"title": "Titre révisé non publié"}}),
        clock=clock,
    )
    sign_in(client, world.reporter)
    page = text(client.get("/bulletins"))
    assert 'href="/bulletins"' in page  # the main navigation
    assert "Alerte publiée verte" in page and green.reference in page
    for hidden in ("Alerte ambre santé", "Brouillon secret", "Titre révisé non publié"):
        assert hidden not in page
    assert "Titre révisé" not in text(client.get("/bulletins?q=r%C3%A9vis%C3%A9"))
    assert green.reference in text(client.get(f"/bulletins?q={green.reference.lower()}"))
    assert "Alerte publiée" not in text(client.get("/bulletins?q=publi%C3%A9e"))  # reopened
    for url in ("/bulletins/new", f"/bulletins/{draft_row.id}/edit", "/bulletins/new?incidents=x"):
        assert client.get(url).status_code == 403, url
    for action in ("submit", "approve", "send-back", "revise", "edit"):
        response = post(client, f"/bulletins/{draft_row.id}/{action}", {"reason": "x"})
        assert response.status_code == 403, action
    for url in ("/bulletins/new", "/bulletins/new/from-incidents", "/bulletins/new/from-cves"):
        assert post(client, url, form(incidents="x", cve_list="CVE-2026-1234")).status_code == 403
    assert db_session.get(Bulletin, draft_row.id).status is BulletinStatus.DRAFT  # type: ignore[union-attr]
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/account")))})
    assert client.get("/bulletins").status_code == 302  # to the sign-in page


def test_staff_list_tabs_filters_search_and_escaping(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    author, _, _ = people(world)
    svc.create_draft(db_session, author, draft(texts={"fr": {"title": XSS}}), clock=clock)
    review = svc.create_draft(
        db_session,
        author,
        draft(tlp="red", risk="low", texts={"fr": {"title": "En revue 100%_ok"}}),
        clock=clock,
    )
    svc.submit(db_session, author, review, clock=clock)
    sign_in(client, world.analyst)
    page = text(client.get("/bulletins"))
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)" in page
    assert "En revue 100%_ok" in page
    assert re.search(r'status=review"[^>]*>[^<]*<span class="badge[^"]*">1</span>', page)
    only_review = text(client.get("/bulletins?status=review"))
    assert "En revue" in only_review and "&lt;script&gt;" not in only_review
    assert "En revue" not in text(client.get("/bulletins?tlp=TLP:CLEAR"))
    assert "En revue" in text(client.get("/bulletins?tlp=TLP:RED&risk=low"))
    assert "En revue" not in text(client.get("/bulletins?q=50%25"))  # % is a character
    assert "En revue" in text(client.get("/bulletins?q=100%25_OK"))
    assert "FortiOS" in text(client.get("/bulletins?q=fortios&kind=advisory"))
    assert client.get("/bulletins?page=0").status_code == 422
    edit = text(client.get(f"/bulletins/{review.id}/edit"))
    assert "Seul un brouillon se modifie" in edit and 'name="title-fr"' not in edit


def test_writing_a_draft_and_every_refusal_next_to_its_field(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    assert world.interieur.slug == "min-interieur"
    sign_in(client, world.analyst)
    new = text(client.get("/bulletins/new"))
    assert 'name="title-ar"' in new and 'dir="rtl"' in new and 'id="from-cves"' in new
    bad = form(
        **{
            "cves": "CVE-2026-1\nnot-a-cve",
            "title-fr": "",
            "indicators": "ipv4 203.0.113.7\nshoe size 42\nnovalue",
            "affected-0-product": "",
            "scores-0-base_score": "eleven",
            "links": "javascript:alert(1)",
            "organisations": ["no-such-org"],
        }
    )
    response = post(client, "/bulletins/new", bad, page="/bulletins/new")
    assert response.status_code == 422
    page = text(response)
    for field in ("cves", "title-fr", "indicators", "affected-0-product", "scores-0-base_score",
                  "links"):  # fmt: skip
        assert f'id="e-{field}"' in page, field
    assert re.search(r'id="e-indicators"[^>]*>[^<]*line 3', page)  # "novalue" is line 3
    assert 'value="Fortinet"' in page and "ثغرة حرجة" in page  # what was typed stays
    assert count(db_session) == 0
    unknown_org = post(
        client, "/bulletins/new", form(organisations=["no-such-org"]), page="/bulletins/new"
    )
    assert unknown_org.status_code == 422 and 'id="e-organisations"' in text(unknown_org)
    assert count(db_session) == 0
    more = post(client, "/bulletins/new", form(add_rows="1"), page="/bulletins/new")
    assert 'name="affected-4-vendor"' in text(more) and count(db_session) == 0
    saved = post(client, "/bulletins/new", form(), page="/bulletins/new")
    assert saved.status_code == 302
    bulletin = db_session.scalars(select(Bulletin)).one()
    assert saved.headers["Location"] == f"/bulletins/{bulletin.id}/edit"
    assert bulletin.cves == ["CVE-2026-21762", "CVE-2026-21763"] and bulletin.tlp == "TLP:GREEN"
    assert bulletin.affected == [{"vendor": "Fortinet", "product": "FortiOS",
                                  "versions": "7.0 < 7.0.14"}]  # fmt: skip
    assert bulletin.indicators == [{"type": "ipv4", "value": "203.0.113.7"},
                                   {"type": "domain", "value": "evil.example"}]  # fmt: skip
    assert bulletin.scores[0]["base_score"] == 9.8
    assert bulletin.text("ar").title == "ثغرة حرجة في FortiOS"  # type: ignore[union-attr]
    edit = text(client.get(f"/bulletins/{bulletin.id}/edit"))
    assert "ipv4 203.0.113.7" in edit and 'value="min-interieur" selected' in edit
    changed = post(
        client,
        f"/bulletins/{bulletin.id}/edit",
        form(**{"title-fr": XSS, "title-ar": "", "summary-ar": ""}),
        page=f"/bulletins/{bulletin.id}/edit",
    )
    assert changed.status_code == 302
    db_session.expire_all()
    assert bulletin.text("ar") is None and bulletin.text("fr").title == XSS  # type: ignore[union-attr]
    assert "<script>alert" not in text(client.get(f"/bulletins/{bulletin.id}/edit"))
    refused = post(
        client,
        f"/bulletins/{bulletin.id}/edit",
        form(cves="CVE-1"),
        page=f"/bulletins/{bulletin.id}/edit",
    )
    assert refused.status_code == 422
    db_session.expire_all()
    assert bulletin.cves == ["CVE-2026-21762", "CVE-2026-21763"]  # nothing half-written


def test_the_four_eyes_rule_in_the_buttons_and_the_posts(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    _, lead, other = people(world)
    bulletin = svc.create_draft(db_session, lead, draft(), clock=clock)
    url = f"/bulletins/{bulletin.id}/edit"
    sign_in(client, world.lead)
    assert "Soumettre à relecture" in text(client.get(url))
    submitted = post(client, f"/bulletins/{bulletin.id}/submit", {}, page=url)
    assert submitted.status_code == 302
    page = text(client.get(url))
    assert "soumis à relecture" in page and "Approuver" not in page
    assert "Renvoyer</button>" in page  # a lead may return it, not approve it
    assert post(client, f"/bulletins/{bulletin.id}/approve", {}, page=url).status_code == 403
    db_session.expire_all()
    assert bulletin.status is BulletinStatus.REVIEW
    assert "Seul un brouillon" in text(client.get(url))
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/account")))})
    sign_in(client, world.second_lead)  # type: ignore[attr-defined]
    page = text(client.get(url))
    assert "Approuver</button>" in page
    no_reason = post(client, f"/bulletins/{bulletin.id}/send-back", {"reason": " "}, page=url)
    assert no_reason.status_code == 302 and "le motif est obligatoire" in text(client.get(url))
    assert post(client, f"/bulletins/{bulletin.id}/approve", {}, page=url).status_code == 302
    page = text(client.get(url))
    assert "il peut être publié" in page and f'href="/bulletins/{bulletin.id}/publish"' in page
    again = post(client, f"/bulletins/{bulletin.id}/approve", {}, page=url)
    assert again.status_code == 302 and "Seul un bulletin en relecture" in text(client.get(url))
    db_session.expire_all()
    assert bulletin.status is BulletinStatus.APPROVED
    svc.publish(db_session, lead, bulletin, clock=clock, settings=SETTINGS)
    db_session.flush()
    assert "Réviser</button>" in text(client.get(url))
    assert post(client, f"/bulletins/{bulletin.id}/revise", {}, page=url).status_code == 302
    db_session.expire_all()
    assert bulletin.status is BulletinStatus.DRAFT and bulletin.revision == 1
    assert "Publier" not in text(client.get(url))  # a draft again: submit first
    assert post(client, "/bulletins/999999/submit", {}, page=url).status_code == 404


def test_drafts_from_incidents_and_cves_in_the_pages(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, tlp="TLP:AMBER")
    red = report(db_session, clock, world.other_reporter, tlp="TLP:RED")
    sign_in(client, world.analyst)
    file_page = text(client.get(f"/incidents/{incident.reference}"))
    assert f'href="/bulletins/new?incidents={incident.reference}"' in file_page
    new = text(client.get(f"/bulletins/new?from=incident&ref={incident.reference}"))
    assert f'value="{incident.reference}"' in new
    refused = post(
        client,
        "/bulletins/new/from-incidents",
        {"incidents": f"{incident.reference} {red.reference}", "kind": "alert", "tlp": "TLP:AMBER"},
    )
    assert refused.status_code == 422 and f"no incident {red.reference}" in text(refused)
    assert count(db_session) == 0
    made = post(
        client,
        "/bulletins/new/from-incidents",
        {"incidents": incident.reference, "kind": "alert", "tlp": "TLP:AMBER"},
    )
    assert made.status_code == 302
    bulletin = db_session.scalars(select(Bulletin)).one()
    assert made.headers["Location"] == f"/bulletins/{bulletin.id}/edit" and bulletin.indicators
    assert "Alerte : Hameçonnage" in text(client.get(f"/bulletins/{bulletin.id}/edit"))
    panel = text(client.get(f"/incidents/{incident.reference}"))
    assert f'href="/bulletins/{bulletin.id}"' in panel  # the bulletin page
    bad = post(client, "/bulletins/new/from-cves", {"cve_list": "CVE-2026-1", "cve_kind": "alert"})
    assert bad.status_code == 422 and "is not a CVE id" in text(bad)
    good = post(client, "/bulletins/new/from-cves", {"cve_list": "CVE-2026-12345"})
    assert good.status_code == 302 and count(db_session) == 2


def test_the_list_paginates(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    author, _, _ = people(world)
    for n in range(31):
        svc.create_draft(db_session, author, draft(texts={"fr": {"title": f"Avis n°{n:02d}"}}),
                         clock=clock)  # fmt: skip
    sign_in(client, world.analyst)
    first, second = text(client.get("/bulletins")), text(client.get("/bulletins?page=2"))
    assert "Avis n°30" in first and "Avis n°01" in first and "Avis n°00" not in first
    assert "Avis n°00" in second and "Avis n°01" not in second
    assert 'href="/bulletins?page=2"' in first
