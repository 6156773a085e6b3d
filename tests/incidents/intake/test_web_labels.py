"""What the report form shows and how it reads input, without a database: RSIT labels in plain
words, pydantic errors turned into translated messages, local times in the configured zone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from pydantic import ValidationError

from cert.app import create_app
from core.markings import Pap, Tlp
from incidents.intake.forms import IncidentForm, pydantic_errors
from incidents.intake.schemas import IncidentSubmission
from incidents.models import Incident, IncidentStatus, ReporterState
from incidents.rules import labels
from incidents.rules.priority import Level, Priority
from incidents.rules.sla import deadlines
from incidents.rules.taxonomy import rsit_classes
from tests.catalogues import catalogue
from tests.kit.config import SUITE_SETTINGS


@pytest.fixture
def flask_app(tmp_path: Path) -> Flask:
    return create_app(
        {
            "testing": True,
            **SUITE_SETTINGS,
            "instance_dir": tmp_path / "instance",
            "database_url": f"sqlite:///{tmp_path / 'unused.db'}",
            "secret_key": "test-secret-key-" + "x" * 32,
        }
    )


def test_every_rsit_class_and_type_has_a_name_and_a_plain_description() -> None:
    for rsit_class in rsit_classes().values():
        assert labels.RSIT_CLASSES[rsit_class.id][0] == rsit_class.name  # the e-mail's msgid
        for rsit_type in rsit_class.types:
            name, help_text = labels.RSIT_TYPES[rsit_type.id]
            assert name == rsit_type.name
            assert help_text != rsit_type.description and len(help_text) < 100  # plain words
    assert len(labels.RSIT_CLASSES) == 11 and len(labels.RSIT_TYPES) == 39


def test_every_value_a_reporter_meets_has_a_label() -> None:
    assert set(labels.LEVELS) == set(Level) == set(labels.IMPACT_HELP) == set(labels.URGENCY_HELP)
    assert set(labels.PRIORITY_LEVELS) == set(Priority)
    assert set(labels.TLP_HELP) == set(Tlp) and set(labels.PAP_HELP) == set(Pap)
    assert set(labels.STATUSES) == set(IncidentStatus) == set(labels.STATUS_HELP)
    assert set(labels.REPORTER_STATES) == set(ReporterState)


@pytest.mark.parametrize("locale", ["fr", "ar"])
def test_rsit_labels_are_translated(locale: str) -> None:
    translated = {m.id: m.string for m in catalogue(locale) if m.id}
    assert translated["Phishing"] == {"fr": "Hameçonnage", "ar": "التصيد الاحتيالي"}[locale]
    for name, help_text in [*labels.RSIT_CLASSES.values(), *labels.RSIT_TYPES.values()]:
        assert translated[name] and translated[help_text]


def test_the_choices_keep_the_taxonomy_order_and_hide_the_test_class() -> None:
    groups = labels.classification_groups()
    assert [g.id for g in groups] == [c for c in rsit_classes() if c != "test"]
    assert groups[0].choices[0].value == "abusive-content/spam"
    assert labels.classification_groups(include_test=True)[-1].id == "test"
    assert labels.classification_label("fraud", "phishing") == ("Fraud", "Phishing")
    assert labels.classification_label("fraud", None) == ("Fraud", None)


def test_pydantic_errors_become_translated_messages(flask_app: Flask) -> None:
    data = {
        "title": "x",
        "category": "fraud",
        "users_affected": "beaucoup",
        "affected_assets": ["ok", "y" * 300],
        "contact": {"email": "nope", "phone": "??"},
        "tlp": "TLP:BLUE",
    }
    with pytest.raises(ValidationError) as err:
        IncidentSubmission.model_validate(data)
    with flask_app.test_request_context("/", headers={"Accept-Language": "en"}):
        messages = pydantic_errors(err.value)
    assert messages == {
        "title": "Too short: at least 3 characters.",
        "description": "This field is required.",
        "users_affected": "Enter a whole number.",
        "affected_assets": "Line 2: Too long: at most 255 characters.",
        "contact.email": "Enter a valid e-mail address, e.g. name@ministry.gov.ma.",
        "contact.phone": "Use only digits, spaces and the signs + ( ) . -",
        "tlp": messages["tlp"],
    }
    assert messages["tlp"].startswith("unknown TLP label 'TLP:BLUE'; valid labels: TLP:CLEAR")
    with flask_app.test_request_context("/", headers={"Accept-Language": "ar"}):
        assert pydantic_errors(err.value)["tlp"].startswith("تصنيف TLP غير معروف 'TLP:BLUE'")


@pytest.mark.parametrize(
    ("local", "utc"),
    [("2026-01-15T08:30", "2026-01-15T07:30"), ("2026-03-01T08:30", "2026-03-01T08:30")],
)
def test_detection_time_is_read_in_the_configured_zone(
    flask_app: Flask, local: str, utc: str
) -> None:
    """Casablanca is UTC+1, but UTC+0 during Ramadan (1 March 2026)."""
    now = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    form_data = {
        "title": "Serveur lent",
        "description": "Le portail ne répond plus.",
        "classification": "availability/dos",
        "detected_at": local,
    }
    with flask_app.test_request_context("/incidents/new", method="POST", data=form_data):
        form = IncidentForm(meta={"csrf": False})
        submission = form.submission(timezone="Africa/Casablanca", now=now)
    assert submission is not None and submission.detected_at == dt.datetime.fromisoformat(
        utc + "+00:00"
    )
    assert (submission.category, submission.type) == ("availability", "dos")


def test_deadlines_say_whether_the_cert_kept_its_commitments() -> None:
    received = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)
    incident = Incident(
        status=IncidentStatus.NEW,
        ack_due_at=received + dt.timedelta(hours=4),
        resolve_due_at=received + dt.timedelta(days=3),
        updated_at=received,
    )
    assert [d.state for d in deadlines(incident, received)] == ["on_time", "on_time"]
    assert [d.state for d in deadlines(incident, received + dt.timedelta(hours=5))] == [
        "overdue",
        "on_time",
    ]
    incident.acknowledged_at = received + dt.timedelta(hours=1)
    incident.resolved_at = received + dt.timedelta(days=4)
    assert [d.state for d in deadlines(incident, received)] == ["met", "missed"]
    incident.status, incident.acknowledged_at = IncidentStatus.REJECTED, None
    incident.updated_at = received + dt.timedelta(hours=6)  # rejected late, no resolution due
    assert [(d.state, d.done) for d in deadlines(incident, received)] == [
        ("missed", incident.updated_at)
    ]
