"""The held-mail queue's pages: the list by tab (newest first, keyset pages, by reason), a
message's page (headers, verdicts, its text as text — never as HTML —, its attachments by name),
the raw message as a download, the navigation's entry and its count, the decisions (each audited,
refused the second time, CSRF-checked) and reprocessing; reporters and anonymous visitors get
nothing (404, the login page)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.clock import FrozenClock
from incidents.mailbox.models import HoldReason, InboundMail, MailStatus
from incidents.models import Incident
from incidents.settings import IntakeSettings
from tests.incidents.mailbox.held_scene import DMARC_FAIL, audited, held_mail, raw_message
from tests.kit.factories import report
from tests.kit.web import csrf_token, text
from tests.kit.world import World

ROW = re.compile(r'href="/mail/(\d+)"')
COUNT = re.compile(r'vigie-mail-count"[^>]*>(\d+)<')


@pytest.fixture
def mail(db_session: Session, clock: FrozenClock, mail_settings: IntakeSettings) -> InboundMail:
    raw = raw_message(
        subject="TR: Hameçonnage <b>urgent</b>",
        body="Bonjour,\n<script>alert('x')</script>\nLien : http://evil.example/login\n",
        files=(("facture.pdf", b"%PDF-1.4 fausse facture", "application/pdf"),),
    )
    detail = "dmarc=fail header.from=unknown.example"
    return held_mail(db_session, clock, mail_settings, raw, authentication=DMARC_FAIL,
                     reason=HoldReason.DMARC_FAIL, detail=detail)  # fmt: skip


def post(client: FlaskClient, url: str, page: str, **data: str) -> TestResponse:
    token = csrf_token(text(client.get(page)))
    return client.post(url, data={"csrf_token": token, **data})


def test_anonymous_visitors_are_sent_to_the_login_page(
    client: FlaskClient, mail: InboundMail
) -> None:
    for url in ("/mail", f"/mail/{mail.id}", f"/mail/{mail.id}/raw"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_reporters_find_no_mailbox(client: FlaskClient, world: World, mail: InboundMail) -> None:
    world.sign_in(client, world.reporter)
    home = text(client.get("/"))
    assert 'href="/mail"' not in home
    for url in ("/mail", "/mail?tab=handled", f"/mail/{mail.id}", f"/mail/{mail.id}/raw"):
        assert client.get(url).status_code == 404, url
    token = csrf_token(home)
    for action in ("incident", "attach", "discard", "reprocess"):
        data: dict[str, Any] = {"csrf_token": token, "organisation": "min-interieur",
                                "reference": "MACERT-2026-000001"}  # fmt: skip
        assert client.post(f"/mail/{mail.id}/{action}", data=data).status_code == 404
    assert not audited(world.session, "mail.discard")


def test_the_navigation_counts_open_messages_for_staff(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World,
    mail_settings: IntakeSettings, mail: InboundMail,
) -> None:  # fmt: skip
    held_mail(db_session, clock, mail_settings, status=MailStatus.FAILED, error="boom")
    held_mail(db_session, clock, mail_settings, status=MailStatus.DISCARDED)
    world.sign_in(client, world.analyst)
    home = text(client.get("/"))
    assert 'href="/mail"' in home
    assert COUNT.findall(home) == ["2"]


def test_the_list_shows_tabs_rows_and_filters_by_reason(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World,
    mail_settings: IntakeSettings, mail: InboundMail,
) -> None:  # fmt: skip
    auto = held_mail(db_session, clock, mail_settings, raw_message(subject="Absence du bureau"),
                     reason=HoldReason.AUTO_REPLY)  # fmt: skip
    failed = held_mail(db_session, clock, mail_settings, status=MailStatus.FAILED, error="boom")
    gone = held_mail(db_session, clock, mail_settings, status=MailStatus.DISCARDED,
                     handled_by_id=world.lead.id, handled_at=clock.now())  # fmt: skip
    world.sign_in(client, world.analyst)
    page = text(client.get("/mail"))
    assert ROW.findall(page) == [str(auto.id), str(mail.id)]  # newest first
    assert "TR: Hameçonnage &lt;b&gt;urgent&lt;/b&gt;" in page and "<b>urgent" not in page
    assert "nadia@unknown.example" in page and "Nadia Alaoui" in page
    assert "vigie-mail-reason-dmarc_fail" in page and "DMARC fail" in page
    assert "dmarc=fail header.from=unknown.example" in page
    assert re.search(r'data-label="[^"]+">1</td>', page)  # one attachment
    assert ROW.findall(text(client.get("/mail?reason=auto_reply"))) == [str(auto.id)]
    assert ROW.findall(text(client.get("/mail?tab=failed"))) == [str(failed.id)]
    handled = text(client.get("/mail?tab=handled"))
    assert ROW.findall(handled) == [str(gone.id)] and "Hicham Lead" in handled
    assert client.get("/mail?tab=nothing").status_code == 422
    assert client.get("/mail?reason=nothing").status_code == 422
    assert client.get("/mail?before=abc").status_code == 422


def test_the_list_pages_by_keyset(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World,
    mail_settings: IntakeSettings,
) -> None:  # fmt: skip
    made = [held_mail(db_session, clock, mail_settings, raw_message(subject=f"n°{i}")).id
            for i in range(52)]  # fmt: skip
    world.sign_in(client, world.analyst)
    first = text(client.get("/mail"))
    assert ROW.findall(first) == [str(i) for i in reversed(made[2:])]
    older = re.search(r'href="(/mail\?[^"]*before=\d+[^"]*)"', first)
    assert older
    second = text(client.get(older.group(1).replace("&amp;", "&")))
    assert ROW.findall(second) == [str(made[1]), str(made[0])]


def test_a_message_page_shows_its_text_as_text(
    client: FlaskClient, world: World, mail: InboundMail
) -> None:
    world.sign_in(client, world.analyst)
    page = text(client.get(f"/mail/{mail.id}"))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert re.search(r'<pre class="vigie-mail-text" dir="auto">', page)
    assert "facture.pdf" in page and "application/pdf" in page
    assert "mx.cert.gov.ma" in page and "DMARC fail" in page
    assert mail.message_id and mail.message_id.replace("<", "&lt;").replace(">", "&gt;") in page
    # the three decisions; the title suggested without "TR:"
    for action in ("incident", "attach", "discard"):
        assert f'action="/mail/{mail.id}/{action}"' in page
    assert 'value="Hameçonnage &lt;b&gt;urgent&lt;/b&gt;"' in page
    assert '<option selected value="TLP:AMBER">' in page
    assert 'name="acknowledge"' not in page  # the sender is nobody's contact


def test_the_raw_message_is_a_download(
    client: FlaskClient, world: World, mail: InboundMail, mail_settings: IntakeSettings
) -> None:
    world.sign_in(client, world.analyst)
    response = client.get(f"/mail/{mail.id}/raw")
    assert response.status_code == 200
    assert (
        response.headers["Content-Disposition"] == f'attachment; filename="message-{mail.id}.eml"'
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "message/rfc822"
    assert b"<script>alert('x')</script>" in response.data


def test_discard_needs_the_csrf_token_is_audited_and_refused_twice(
    client: FlaskClient, db_session: Session, world: World, mail: InboundMail
) -> None:
    world.sign_in(client, world.analyst)
    assert client.post(f"/mail/{mail.id}/discard", data={"note": "x"}).status_code == 400
    assert mail.status is MailStatus.HELD
    response = post(client, f"/mail/{mail.id}/discard", f"/mail/{mail.id}", note="Spam")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/mail/{mail.id}")
    db_session.refresh(mail)
    assert (mail.status, mail.handled_by_id, mail.handling_note) == (
        MailStatus.DISCARDED, world.analyst.id, "Spam",
    )  # fmt: skip
    [entry] = audited(db_session, "mail.discard")
    assert entry.actor_id == world.analyst.id
    page = text(client.get(f"/mail/{mail.id}"))
    assert "Amine Analyste" in page and "Spam" in page
    assert f'action="/mail/{mail.id}/discard"' not in page  # handled: no more decisions
    again = client.post(f"/mail/{mail.id}/discard", data={"csrf_token": csrf_token(page)})
    assert again.status_code == 303
    assert len(audited(db_session, "mail.discard")) == 1
    assert "alert-warning" in text(client.get(f"/mail/{mail.id}"))


def test_a_bad_decision_is_shown_on_the_form_and_changes_nothing(
    client: FlaskClient, db_session: Session, world: World, mail: InboundMail
) -> None:
    world.sign_in(client, world.analyst)
    page = f"/mail/{mail.id}"
    response = post(client, f"{page}/attach", page, reference="MACERT-2026-999999")
    assert response.status_code == 422
    assert 'id="reference-error"' in text(response)
    response = post(client, f"{page}/incident", page, organisation="min-nowhere", tlp="TLP:AMBER")
    assert response.status_code == 422 and 'id="organisation-error"' in text(response)
    response = post(client, f"{page}/incident", page, organisation=world.interieur.slug,
                    tlp="TLP:AMBER", acknowledge="y")  # fmt: skip
    assert response.status_code == 422 and 'id="acknowledge-error"' not in text(response)
    db_session.refresh(mail)
    assert mail.status is MailStatus.HELD


def test_reprocess_is_only_for_failed_messages(
    client: FlaskClient, world: World, mail: InboundMail
) -> None:
    world.sign_in(client, world.analyst)
    response = post(client, f"/mail/{mail.id}/reprocess", f"/mail/{mail.id}")
    assert response.status_code == 303
    assert "alert-warning" in text(client.get(f"/mail/{mail.id}"))


def test_a_missing_raw_file_still_shows_the_page(
    client: FlaskClient, world: World, mail: InboundMail, mail_settings: IntakeSettings
) -> None:
    path = Path(mail_settings.mail.mail_dir) / mail.sha256[:2] / mail.sha256
    path.unlink()
    world.sign_in(client, world.analyst)
    response = client.get(f"/mail/{mail.id}")
    assert response.status_code == 200 and "alert-warning" in text(response)
    assert client.get(f"/mail/{mail.id}/raw").status_code == 404


def test_make_an_incident_from_the_page(
    client: FlaskClient, db_session: Session, world: World, mail: InboundMail
) -> None:
    world.sign_in(client, world.analyst)
    page = f"/mail/{mail.id}"
    response = post(client, f"{page}/incident", page, organisation=world.interieur.slug,
                    title="Hameçonnage", tlp="TLP:AMBER", note="Vu avec l'astreinte")  # fmt: skip
    assert response.status_code == 303, text(response)
    db_session.refresh(mail)
    assert mail.status is MailStatus.INCIDENT and mail.incident_id is not None
    incident = db_session.get_one(Incident, mail.incident_id)
    assert incident.organisation_id == world.interieur.id and incident.title == "Hameçonnage"
    shown = text(client.get(page))
    assert f"Incident {incident.reference} créé à partir du message." in shown
    assert f'href="/incidents/{incident.reference}"' in shown
    assert "Amine Analyste" in shown and "Vu avec l&#39;astreinte" in shown
    [entry] = audited(db_session, "mail.incident")
    assert entry.actor_id == world.analyst.id and entry.after["incident"] == incident.reference
    # the second decision is refused, nothing changes
    again = post(client, f"{page}/attach", page, reference=incident.reference)
    assert again.status_code == 303
    assert "déjà été traité" in text(client.get(page))
    assert not audited(db_session, "mail.reply")


def test_attach_to_an_incident_from_the_page(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World,
    mail: InboundMail,
) -> None:  # fmt: skip
    incident = report(db_session, clock, world.reporter)
    world.sign_in(client, world.analyst)
    page = f"/mail/{mail.id}"
    response = post(client, f"{page}/attach", page, reference=incident.reference)
    assert response.status_code == 303, text(response)
    db_session.refresh(mail)
    assert (mail.status, mail.incident_id) == (MailStatus.REPLY, incident.id)
    assert f"Message ajouté aux échanges de {incident.reference}." in text(client.get(page))
    assert len(audited(db_session, "mail.reply")) == 1


def test_the_acknowledgement_is_offered_for_the_senders_organisation_only(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World,
    mail_settings: IntakeSettings,
) -> None:  # fmt: skip
    raw = raw_message(sender=f"Leila <{world.reporter.email}>")
    mail = held_mail(db_session, clock, mail_settings, raw, reason=HoldReason.UNKNOWN_REFERENCE)
    world.sign_in(client, world.analyst)
    world.sante  # noqa: B018 — another ministry in the list
    page = text(client.get(f"/mail/{mail.id}"))
    assert 'name="acknowledge"' in page
    assert re.findall(r'<option data-sender-contact="1"[^>]*value="([^"]+)"', page) == [
        world.interieur.slug
    ]


def test_a_failed_message_is_reprocessed_from_its_page(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World,
    mail_settings: IntakeSettings,
) -> None:  # fmt: skip
    failed = held_mail(db_session, clock, mail_settings, status=MailStatus.FAILED,
                       error="RuntimeError: parser crashed")  # fmt: skip
    world.sign_in(client, world.analyst)
    page = f"/mail/{failed.id}"
    shown = text(client.get(page))
    assert "RuntimeError: parser crashed" in shown
    assert f'action="{page}/reprocess"' in shown and f'action="{page}/incident"' not in shown
    response = post(client, f"{page}/reprocess", page)
    assert response.status_code == 303
    db_session.expire_all()
    again = db_session.get_one(InboundMail, failed.id)
    assert (again.status, again.hold_reason) == (MailStatus.HELD, HoldReason.UNKNOWN_SENDER)
    assert "Message retraité : Retenu." in text(client.get(page))
    [entry] = audited(db_session, "mail.reprocess")
    assert entry.actor_id == world.analyst.id


def test_a_red_incident_made_by_an_analyst_leads_back_to_the_queue(
    client: FlaskClient, db_session: Session, world: World, mail: InboundMail
) -> None:
    world.sign_in(client, world.analyst)
    page = f"/mail/{mail.id}"
    response = post(client, f"{page}/incident", page, organisation=world.interieur.slug,
                    tlp="TLP:RED")  # fmt: skip
    assert response.status_code == 303 and response.headers["Location"].endswith("/mail")
    assert "TLP:RED" in text(client.get("/mail"))  # the flash message
    assert client.get(page).status_code == 404
