"""A bulletin's page and downloads on both databases: who sees which bulletin (analyst, lead,
reporter of a concerned organisation, reporter of another, anonymous × CLEAR, AMBER, RED, draft),
a revision in progress never shown to a reporter, titles escaped, Arabic right to left, the
language switch, a download per registered format, source incidents for staff only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bulletins.authoring import services as svc
from bulletins.models import Bulletin, BulletinDelivery, BulletinIncident
from bulletins.outputs import formats
from core.clock import FrozenClock
from core.identity.models import User
from tests.bulletins.outputs_kit import ARABIC_TITLE, advisory, full
from tests.bulletins.test_authoring import draft, people
from tests.kit.factories import report
from tests.kit.web import sign_in, text
from tests.kit.world import World

WHO = ("analyst", "lead", "reporter", "other_reporter", None)
SEES = {  # who → the bulletins whose page they get
    "analyst": {"clear", "amber", "red", "draft"},
    "lead": {"clear", "amber", "red", "draft"},
    "reporter": {"clear", "amber"},  # of the Interior ministry, which the AMBER one is about
    "other_reporter": {"clear"},
}


def _bulletins(session: Session, clock: FrozenClock, world: World) -> dict[str, Bulletin]:
    world.interieur  # noqa: B018  (the concerned organisation exists)
    made = {
        "clear": advisory(session, clock, world, tlp="clear"),
        "amber": advisory(session, clock, world, tlp="amber", organisations=["min-interieur"]),
        "red": advisory(session, clock, world, tlp="red", organisations=["min-interieur"]),
    }
    author, _, _ = people(world)
    made["draft"] = svc.create_draft(
        session, author, draft(texts={"fr": {"title": "Brouillon secret"}}), clock=clock
    )
    session.flush()
    return made


def _client(app: Flask, world: World, who: str | None) -> FlaskClient:
    client = app.test_client()
    if who is not None:
        sign_in(client, getattr(world, who))
    return client


@pytest.mark.parametrize("who", WHO)
def test_who_sees_which_bulletin(
    app: Flask, db_session: Session, clock: FrozenClock, world: World, who: str | None
) -> None:
    made = _bulletins(db_session, clock, world)
    client = _client(app, world, who)
    for name, bulletin in made.items():
        page = client.get(f"/bulletins/{bulletin.id}")
        download = client.get(f"/bulletins/{bulletin.id}/download/text")
        if who is None:
            assert page.status_code == 302 and "/login" in page.headers["Location"], name
            assert download.status_code == 302, name
        elif name in SEES[who]:
            assert page.status_code == 200, (who, name)
            assert download.status_code == 200, (who, name)
            assert download.get_data(as_text=True).startswith(f"TLP:{name.upper()}\n") or (
                name == "draft"
            )
        else:
            assert page.status_code == 404, (who, name)
            assert download.status_code == 404, (who, name)
            assert "Brouillon secret" not in text(page)


def test_staff_preview_a_draft(
    app: Flask, db_session: Session, clock: FrozenClock, world: World
) -> None:
    made = _bulletins(db_session, clock, world)
    client = _client(app, world, "lead")
    html = text(client.get(f"/bulletins/{made['draft'].id}?lang=fr"))
    assert "Brouillon secret" in html and "Aperçu d'un contenu non publié" in html
    assert "Brouillon : non publié, susceptible de changer." in html
    download = client.get(f"/bulletins/{made['draft'].id}/download/html")
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="bulletin-{made["draft"].id}-draft.html"'
    )


def test_a_revision_in_progress_never_shows_to_a_reporter(
    app: Flask, db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.interieur  # noqa: B018
    bulletin = advisory(db_session, clock, world, tlp="green")
    author, _, _ = people(world)
    svc.revise(db_session, author, bulletin, clock=clock)
    changed = draft(**full(tlp="green", texts={"fr": {"title": "Révision confidentielle"}}))
    svc.update_draft(db_session, author, bulletin, changed, clock=clock)
    db_session.flush()
    reporter = _client(app, world, "reporter")
    for url in (f"/bulletins/{bulletin.id}", f"/bulletins/{bulletin.id}?preview=1",
                f"/bulletins/{bulletin.id}/download/html?preview=1",
                f"/bulletins/{bulletin.id}/download/text"):  # fmt: skip
        body = text(reporter.get(url))
        assert "Vulnérabilité critique dans FortiOS" in body, url
        assert "Révision confidentielle" not in body and "Aperçu" not in body, url
    staff = _client(app, world, "analyst")
    published = text(staff.get(f"/bulletins/{bulletin.id}?lang=fr"))
    assert "Vulnérabilité critique dans FortiOS" in published
    assert "Révision confidentielle" not in published
    assert "Une révision de ce bulletin est en cours" in published
    preview = text(staff.get(f"/bulletins/{bulletin.id}?preview=1"))
    assert "Révision confidentielle" in preview


def test_a_title_is_escaped(
    app: Flask, db_session: Session, clock: FrozenClock, world: World
) -> None:
    xss = "<script>alert(1)</script>"
    bulletin = advisory(db_session, clock, world, tlp="clear",
                        texts={"fr": {"title": xss, "summary": f"a\n{xss}"}})  # fmt: skip
    html = text(_client(app, world, "reporter").get(f"/bulletins/{bulletin.id}"))
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_arabic_language_switch_and_downloads(
    app: Flask, db_session: Session, clock: FrozenClock, world: World, reporter: User
) -> None:
    bulletin = advisory(db_session, clock, world, tlp="clear")
    client = _client(app, world, "reporter")
    html = text(client.get(f"/bulletins/{bulletin.id}?lang=ar"))
    assert '<html lang="ar" dir="rtl"' in html  # the interface follows ?lang=
    assert '<article class="bulletin" lang="ar" dir="rtl">' in html and ARABIC_TITLE in html
    assert '<bdi dir="ltr">CVE-2026-21762</bdi>' in html
    assert not re.search(r"<style\b|\sstyle\s*=|<script(?![^>]*\bsrc=)", html)  # the CSP's
    assert f'href="/bulletins/{bulletin.id}?lang=fr"' in html  # the French version
    versions = html.split('class="nav nav-pills')[1].split("</nav>")[0]
    assert versions.count('hreflang="') == 2 and 'hreflang="en"' not in versions  # fr, ar
    for name, fmt in formats.FORMATS.items():
        assert f"/bulletins/{bulletin.id}/download/{name}?language=ar" in html, name
        got = client.get(f"/bulletins/{bulletin.id}/download/{name}?language=ar")
        assert got.status_code == 200 and got.content_type == fmt.content_type, name
        assert got.headers["Content-Disposition"] == (
            f'attachment; filename="{bulletin.reference}{fmt.suffix}"'
        )
    arabic = client.get(f"/bulletins/{bulletin.id}/download/html?language=ar")
    assert ARABIC_TITLE in arabic.get_data(as_text=True)
    assert client.get(f"/bulletins/{bulletin.id}/download/docx").status_code == 404
    english = text(client.get(f"/bulletins/{bulletin.id}?lang=en"))  # no English version
    assert '<article class="bulletin" lang="fr" dir="ltr">' in english


def test_source_incidents_show_to_staff_only(
    app: Flask, db_session: Session, clock: FrozenClock, world: World, reporter: User
) -> None:
    incident = report(db_session, clock, reporter)
    bulletin = advisory(db_session, clock, world, tlp="clear")
    db_session.add(BulletinIncident(bulletin_id=bulletin.id, incident_id=incident.id))
    db_session.flush()
    staff: Any = text(_client(app, world, "analyst").get(f"/bulletins/{bulletin.id}"))
    assert f'href="/incidents/{incident.reference}"' in staff
    mine = text(_client(app, world, "reporter").get(f"/bulletins/{bulletin.id}"))
    assert incident.reference not in mine


def test_a_red_bulletin_delivered_to_a_reporter_is_readable_by_them_only(
    app: Flask, db_session: Session, clock: FrozenClock, world: World
) -> None:
    bulletin = advisory(db_session, clock, world, tlp="red")
    db_session.add(
        BulletinDelivery(
            bulletin_id=bulletin.id,
            revision=1,
            email=world.reporter.email,
            language="fr",
            created_at=clock.now(),
        )  # fmt: skip
    )
    db_session.flush()
    got = _client(app, world, "reporter").get(f"/bulletins/{bulletin.id}/download/text")
    assert got.status_code == 200 and got.get_data(as_text=True).startswith("TLP:RED\n")
    other = _client(app, world, "other_reporter").get(f"/bulletins/{bulletin.id}")
    assert other.status_code == 404
