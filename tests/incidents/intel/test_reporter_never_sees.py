"""Threat intelligence is for CERT staff only. The file shows each sighting with its context and
the known-benign observables; a reporter whose report matched reads none of it anywhere — the
status page, the reporter API (the incident, the list, the timeline), the reporter's PDF and
the e-mails. Both databases, through the real intake service and the real pages."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.mail_compose import rendered
from core.markings import Tlp
from feeds.rules.records import Related
from incidents.models import Incident
from incidents.workspace import conversation
from tests.incidents.workspace_helpers import outbox
from tests.kit import intel
from tests.kit.api import URL
from tests.kit.factories import PASSWORD, PHISHING, SETTINGS, report
from tests.kit.web import login, logout, sign_in, text
from tests.kit.world import World

DESCRIPTION = PHISHING["description"] + " Résolution DNS via 8.8.8.8."
STAFF_ONLY = (
    "Zeta phishing kit", "zeta-feed", "ZetaStealer", "Zeta Spider", "T1566",
    "Threat intelligence", "Renseignement sur la menace", "استخبارات التهديدات",
    "Known benign", "Connu comme bénin", "معروف بأنه غير ضار", "public DNS resolvers",
    "intel_match", "vigie-intel", "warning_lists", "Confidence", "Confiance",
)  # fmt: skip


def leaks(content: str) -> list[str]:
    return [s for s in STAFF_ONLY if s in content]


@pytest.fixture
def matched(db_session: Session, clock: FrozenClock, world: World) -> Incident:
    intel.indicator(
        db_session,
        "domain",
        "webmail-interieur.com",
        feed_name="zeta-feed",
        name="Zeta phishing kit",
        pattern="[domain-name:value = 'webmail-interieur.com']",
        confidence=90,
        tlp=Tlp.AMBER,
        related=(
            Related("malware", "ZetaStealer"),
            Related("intrusion-set", "Zeta Spider"),
            Related("attack-pattern", "Phishing", external_id="T1566"),
        ),
    )
    incident = report(db_session, clock, world.reporter, PHISHING, description=DESCRIPTION)
    db_session.commit()
    return incident


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_the_staff_file_shows_the_matches_with_their_context(
    client: FlaskClient, world: World, matched: Incident, lang: str
) -> None:
    sign_in(client, world.analyst)
    html = text(client.get(f"/incidents/{matched.reference}?lang={lang}"))
    for shown in ("Zeta phishing kit", "zeta-feed", "ZetaStealer", "Zeta Spider", "T1566"):
        assert shown in html
    assert "[domain-name:value = &#39;webmail-interieur.com&#39;]" in html  # the pattern
    assert "TLP:AMBER" in html and "vigie-intel-benign" in html
    words = {
        "en": ("Threat intelligence", "Known benign", "URL host listed", "on arrival"),
        "fr": ("Renseignement sur la menace", "Connu comme bénin", "valeur exacte"),
        "ar": ("استخبارات التهديدات", "معروف بأنه غير ضار", "عند الوصول"),
    }[lang]
    for word in words:
        assert word in html, word
    # the timeline says it in words: the match and the raised priority
    assert {"en": "Priority raised from P2 to P1", "fr": "Priorité relevée de P2 à P1"}.get(
        lang, "رُفعت الأولوية"
    ) in html


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_the_status_page_shows_none_of_it(
    client: FlaskClient, world: World, matched: Incident, lang: str
) -> None:
    sign_in(client, world.reporter)
    html = text(client.get(f"/track/{matched.reference}?lang={lang}"))
    assert "webmail-interieur.com" in html and "8.8.8.8" in html  # their own observables
    assert leaks(html) == []
    assert leaks(text(client.get(f"/incidents/mine?lang={lang}"))) == []


def test_the_reporter_api_shows_none_of_it(
    client: FlaskClient, world: World, matched: Incident
) -> None:
    headers = world.headers(world.reporter)
    one = client.get(f"{URL}/{matched.reference}", headers=headers)
    assert one.status_code == 200 and "webmail-interieur.com" in one.get_data(as_text=True)
    assert leaks(one.get_data(as_text=True)) == []
    assert leaks(client.get(URL, headers=headers).get_data(as_text=True)) == []
    events = client.get(f"{URL}/{matched.reference}/timeline", headers=headers)
    assert events.status_code == 200
    kinds = {e["kind"] for e in events.get_json()["items"]}
    assert (
        kinds.isdisjoint({"intel_match", "attention"})
        and leaks(events.get_data(as_text=True)) == []
    )
    staff = client.get(f"{URL}/{matched.reference}/timeline", headers=world.headers(world.analyst))
    assert {"intel_match", "attention"} <= {e["kind"] for e in staff.get_json()["items"]}


def test_the_reporter_pdf_shows_none_of_it(
    client: FlaskClient, world: World, matched: Incident
) -> None:
    for who, lang in ((world.reporter, "fr"), (world.reporter, "ar"), (world.lead, "en")):
        login(client, who.email, PASSWORD)
        response = client.get(f"/incidents/{matched.reference}/report.pdf?lang={lang}")
        logout(client)
        assert response.status_code == 200
        pages = PdfReader(io.BytesIO(response.get_data())).pages
        content = " ".join(page.extract_text() for page in pages)
        assert matched.reference in content
        if who is world.lead:  # the CERT version tells the match: the check below can fail
            assert "Zeta phishing kit" in content
        else:
            assert leaks(content) == []


def test_the_e_mails_show_none_of_it(
    db_session: Session, clock: FrozenClock, world: World, matched: Incident
) -> None:
    lead = world.actor(world.lead)
    conversation.reply_to_reporter(
        db_session, lead, matched, "Nous analysons.", clock=clock, settings=SETTINGS
    )
    db_session.flush()
    mails = [m for m in outbox(db_session, matched) if m.to_addr == world.reporter.email]
    assert len(mails) >= 2  # the acknowledgement and the reply
    for mail in mails:
        assert leaks("\n".join(part or "" for part in rendered(mail))) == []
