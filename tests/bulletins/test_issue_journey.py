"""Issue 20's "Done when", end to end on both databases through the real parts: a lead takes an
incident to a published advisory in French and Arabic — drafted from the incident (its AMBER
indicators only, never the RED one), written in both languages, approved by a second lead,
published to the Interior ministry's list and e-mailed through the outbox to a real SMTP server
(aiosmtpd): the ministry's contacts receive it, each in their language, and nobody else does; its
readers (and only they) read it and download the PDF, the CSAF (valid under the official schema
and the §6.1 tests) and the STIX bundle (valid under the OASIS validator) through the API."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from bulletins.authoring import services as svc
from bulletins.authoring import sources
from bulletins.authoring.schemas import DraftIn
from bulletins.csaf import checks
from bulletins.distribution.sending import publish_and_send
from bulletins.models import BulletinKind, ListKind
from core.clock import FrozenClock
from core.markings import Tlp
from tests.bulletins.csaf_oasis import oasis_problems
from tests.bulletins.lists import make_list
from tests.bulletins.stix_check import assert_valid_bundle
from tests.bulletins.test_authoring import SETTINGS, people
from tests.bulletins.test_distribution_sending import body, received
from tests.bulletins.test_sources import observe
from tests.kit.factories import report
from tests.kit.smtp import SmtpServer
from tests.kit.world import World


def test_an_incident_becomes_a_published_advisory_that_reaches_only_its_ministry(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    world: World,
    smtp: SmtpServer,
    client: FlaskClient,
    tmp_path: Path,
) -> None:
    interieur, sante = world.interieur, world.sante
    interieur.contact_emails = ["soc@interieur.gov.ma"]
    sante.contact_emails = ["soc@sante.gov.ma"]
    make_list(db_session, clock, "interieur", ListKind.ORGANISATION, organisation_id=interieur.id,
              members=[{"email": "dsi@interieur.gov.ma", "language": "ar"}])  # fmt: skip
    make_list(db_session, clock, "all", ListKind.ALL)
    incident = report(db_session, clock, world.reporter, tlp="TLP:AMBER")
    observe(db_session, incident, "domain", "fortigate-update.example.net", Tlp.AMBER)
    observe(db_session, incident, "ipv4", "203.0.113.66", Tlp.RED)
    analyst, lead, second_lead = people(world)

    bulletin = sources.draft_from_incidents(db_session, analyst, [incident.reference],
                                            kind=BulletinKind.ADVISORY, tlp="TLP:AMBER",
                                            clock=clock)  # fmt: skip
    values = {i["value"] for i in bulletin.indicators}
    assert "fortigate-update.example.net" in values and "203.0.113.66" not in values
    data = DraftIn.model_validate({
        "kind": "advisory", "tlp": "TLP:AMBER", "risk": "critical", "impact": "important",
        "affected": [{"vendor": "Fortinet", "product": "FortiOS", "versions": "7.0 < 7.0.17"}],
        "cves": ["CVE-2026-24858"], "scores": [{"cve": "CVE-2026-24858", "version": "3.1",
        "base_score": 9.8, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "links": ["https://fortiguard.fortinet.com/psirt/FG-IR-26-060"],
        "indicators": bulletin.indicators, "organisations": [interieur.slug],
        "lists": ["interieur"],
        "texts": {
            "fr": {"title": "Vulnérabilité critique dans FortiOS exploitée contre le ministère",
                   "summary": "Une vulnérabilité permet l'exécution de code à distance.",
                   "solution": "Appliquer la version 7.0.17.", "risks": "Exécution de code"},
            "ar": {"title": "ثغرة حرجة في FortiOS", "summary": "ثغرة تسمح بتنفيذ تعليمات برمجية."},
        },
    })  # fmt: skip
    svc.update_draft(db_session, analyst, bulletin, data, clock=clock)
    svc.submit(db_session, analyst, bulletin, clock=clock)
    svc.approve(db_session, second_lead, bulletin, clock=clock)
    sent = publish_and_send(db_session, lead, bulletin, clock=clock, settings=SETTINGS)
    assert sent.queued == 2 and bulletin.reference == "MACERT-AVI-2026-0001"

    everything = received(db_session, session_factory, smtp, clock)  # the incident's too
    mails = {a: m for a, m in everything.items() if "MACERT-AVI" in str(m["Subject"])}
    assert set(mails) == {"soc@interieur.gov.ma", "dsi@interieur.gov.ma"}  # nobody else
    french, arabic = mails["soc@interieur.gov.ma"], mails["dsi@interieur.gov.ma"]
    assert str(french["Subject"]).startswith("[TLP:AMBER] MACERT-AVI-2026-0001 — Vulnérabilité")
    assert str(arabic["Subject"]).endswith("ثغرة حرجة في FortiOS")
    assert 'dir="rtl"' in body(arabic, "html")
    assert "203.0.113.66" not in body(french) + body(arabic)

    db_session.commit()  # the API reads through its own session
    url = f"/api/v1/bulletins/{bulletin.reference}"
    assert client.get(url, headers=world.headers(world.other_reporter)).status_code == 404
    reader = world.headers(world.reporter)
    assert client.get(url, headers=reader).get_json()["tlp"] == "TLP:AMBER"
    pdf = client.get(f"{url}.pdf?lang=ar", headers=reader)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    (tmp_path / "b.pdf").write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(tmp_path / "b.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    assert "TLP:AMBER" in text and "MACERT-AVI-2026-0001" in text and "FortiOS" in text
    csaf = json.loads(client.get(f"{url}.csaf.json", headers=reader).data)
    assert not oasis_problems(csaf) and not checks.problems(csaf)
    assert csaf["document"]["distribution"]["tlp"]["label"] == "AMBER"
    bundle = assert_valid_bundle(client.get(f"{url}.stix.json", headers=reader).data.decode())
    assert {"report", "vulnerability", "indicator"} <= {o["type"] for o in bundle["objects"]}
