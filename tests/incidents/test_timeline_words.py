"""The timeline and the PDF report speak in words (issue 17): every kind of event the code can
write has a label in ``incidents.rules.labels.EVENTS``, translated in French and Arabic, and a
sentence on the incident file and in the PDF — no internal code ("task_added", "(merged)",
"`attachment`") ever reaches the page, in French, Arabic or English."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.i18n import translations
from incidents.actions import IncidentAction
from incidents.intake.service import add_event
from incidents.named import event_views
from incidents.reporting.report_pdf import report_html
from incidents.rules import labels
from incidents.workspace.conversation import timeline
from tests.kit.factories import report
from tests.kit.web import sign_in, text
from tests.kit.world import World

ROOT = Path(__file__).resolve().parents[2] / "incidents"
WRITERS = {"add_event", "insert_event", "timeline_line"}  # (session, incident, actor, kind, …)
BY_ACTION = {"record_change", "_write"}  # (session, actor, incident, IncidentAction.X, …)

# data as the code writes it, one event of each kind
SAMPLES: dict[str, dict[str, Any]] = {
    "created": {"priority": "P2", "category": "fraud", "type": "phishing"},
    "status": {"from": "new", "to": "duplicate", "reason": "Déjà signalé", "reason_public": True},
    "reply": {"body": "<p>Merci</p>"},
    "priority": {"from": "P3", "to": "P1", "reason": "VIP"},
    "assignment": {"assignee": "amine@cert.gov.ma", "name": "Amine Analyste"},
    "classification": {
        "from": {"category": "other", "type": "undetermined"},
        "to": {"category": "fraud", "type": "phishing"},
    },
    "markings": {"from": {"tlp": "TLP:AMBER"}, "to": {"tlp": "TLP:RED", "pap": "PAP:RED"}},
    "participant": {"added": "youssef@cert.gov.ma"},
    "linked": {"reference": "MACERT-2026-000777"},
    "unlinked": {"reference": "MACERT-2026-000777"},
    "merged": {"into": "MACERT-2026-000778"},
    "observable_added": {"type": "domain", "value": "evil.example"},
    "observable_removed": {"type": "ipv4", "value": "198.51.100.7"},
    "task_added": {"title": "Isoler le poste"},
    "task_done": {"title": "Isoler le poste"},
    "task_reopened": {"title": "Isoler le poste"},
    "tasks_applied": {"tasks": ["a", "b"]},
    "comment": {"body": "<p>Note</p>"},
    "reporter_reply": {"body": "<p>Toujours là</p>"},
    "mail": {"to": "rssi@interieur.gov.ma", "subject": "Incident", "template": "closing"},
    "attachment": {"filename": "rapport-antivirus.pdf", "sha256": "ab" * 32, "size": 1200},
    "attachment_refused": {"filename": "dump.zip", "limit": 20971520, "text": "dump.zip"},
    "intel_match": {
        "found_by": "retrohunt",
        "matches": [
            {"value": "evil.example", "indicator": "Phish kit", "feed": "abuse-feed"},
            {"value": "198.51.100.7", "indicator": "C2", "feed": "abuse-feed"},
        ],
    },
    "escalated": {"step": "leads", "centre": "sante", "centre_name": "Centre santé"},
    "transferred": {"from": "national", "to": "sante", "reason": "Compétence du centre santé"},
    "shared": {"centre": "finance", "mode": "work", "reason": "Enquête conjointe"},
    "unshared": {"centre": "finance"},
    "attention": {
        "from": "P3",
        "to": "P2",
        "confidence": 85,
        "indicator": "Phish kit",
        "value": "evil.example",
        "match_id": 1,
    },
}


def written_kinds() -> set[str]:
    """Every event kind a call in the incidents slice writes: a literal passed to ``add_event``
    or ``insert_event``, or the kind of the ``IncidentAction`` passed to ``record_change``."""
    kinds: set[str] = set()
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 4:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            arg = node.args[3]
            if name in WRITERS and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                kinds.add(arg.value)
            elif name in BY_ACTION and isinstance(arg, ast.Attribute):
                kinds.add(IncidentAction[arg.attr].kind)
    return kinds


def test_every_kind_the_code_writes_has_a_label_in_french_and_arabic() -> None:
    kinds = written_kinds()
    assert {"created", "status", "task_added", "attachment", "merged", "mail"} <= kinds
    assert kinds <= set(SAMPLES), kinds - set(SAMPLES)  # this test knows each one
    assert kinds <= set(labels.EVENTS), kinds - set(labels.EVENTS)
    for locale in ("fr", "ar"):
        catalogue = translations(locale)
        for kind in kinds:
            label = labels.EVENTS[kind]
            assert catalogue.gettext(label) != label, (locale, kind)


def visible_text(html: str) -> str:
    """What a reader sees: the markup (classes, ids) left out."""
    return re.sub(r"<[^>]+>", " ", html)


def assert_in_words(html: str, kinds: set[str]) -> None:
    shown = visible_text(html)
    for kind in kinds:
        assert f"({kind})" not in shown and f"`{kind}`" not in shown, kind
        if "_" in kind:
            assert kind not in shown, kind
    assert '<code class="small">' not in html


@pytest.fixture
def everything(db_session: Session, clock: FrozenClock, world: World) -> Any:
    incident = report(db_session, clock, world.reporter)
    staff = world.actor(world.analyst)
    for kind, data in SAMPLES.items():
        if kind != "created":
            public = kind in {"status", "reply", "priority", "reporter_reply", "merged"}
            add_event(db_session, incident, staff, kind, clock=clock, public=public, data=data)
    db_session.commit()
    return incident


@pytest.mark.parametrize("lang", ["fr", "ar", "en"])
def test_the_file_tells_each_event_in_words(
    client: FlaskClient, db_session: Session, world: World, everything: Any, lang: str
) -> None:
    sign_in(client, world.analyst)
    html = text(client.get(f"/incidents/{everything.reference}?lang={lang}"))
    assert_in_words(html, set(SAMPLES))
    assert "rapport-antivirus.pdf" in html and "Isoler le poste" in html
    if lang == "fr":
        shown = visible_text(html)
        assert "Tâche ajoutée" in shown and "Pièce jointe ajoutée" in shown
        assert "Fusionné dans" in shown and "Mise à jour" not in shown


@pytest.mark.parametrize("lang", ["fr", "ar", "en"])
def test_the_pdf_tells_each_event_in_words(
    db_session: Session, clock: FrozenClock, world: World, everything: Any, lang: str
) -> None:
    actor = world.actor(world.lead)
    events = timeline(db_session, actor, everything, public_only=False, limit=100)
    html = report_html(
        everything, events=event_views(db_session, actor, events), observables=[],
        origins={}, tasks=[], staff=True, locale=lang, zone="Africa/Casablanca",
        now=clock.now() + dt.timedelta(minutes=1),
    )  # fmt: skip
    assert_in_words(html, set(SAMPLES))
    assert "rapport-antivirus.pdf" in html and "MACERT-2026-000778" in html
    if lang == "fr":
        shown = visible_text(html)
        assert "Tâche ajoutée : " in shown and "Mise à jour" not in shown
        assert "Motif : Déjà signalé" in shown or "Motif : Déjà signalé" in shown.replace(
            "\u202f", " "
        )
