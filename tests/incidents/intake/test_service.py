"""submit_incident on a real database (both backends): classification, priority, SLA, observables,
duplicates, organisation isolation and the acknowledgement queued in the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.errors import Conflict, NotFound, ValidationFailed
from core.identity.authz import Actor
from core.identity.models import Role, User
from core.mail_compose import rendered
from core.outbox import OutboxMessage
from incidents.intake.schemas import IncidentSubmission
from incidents.intake.service import get_incident, submit_incident
from incidents.models import IncidentEvent
from incidents.settings import IntakeSettings
from tests.kit.factories import actor_of, make_org, make_user

SETTINGS = IntakeSettings(
    reference_prefix="MACERT", base_url="https://cert.example.ma", mail_domain="cert.example.ma"
)

PHISHING = {
    "title": "Campagne de phishing visant la messagerie du ministère",
    "description": (
        "Plusieurs agents ont reçu un courriel de securite[@]interieur-gov[.]ma contenant le lien "
        "hxxps://webmail-interieur[.]com/login.php. Le fichier joint facture.pdf a pour SHA-256 "
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08. "
        "Connexions observées depuis 185.220.101[.]4 ; version du client 1.2.3.4."
    ),
    "category": "fraud",
    "type": "phishing",
    "impact": "high",
    "urgency": "high",
}


def submission(**changes: Any) -> IncidentSubmission:
    return IncidentSubmission.model_validate({**PHISHING, **changes})


def test_submission_is_classified_prioritised_and_acknowledged(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    incident = submit_incident(
        db_session, actor_of(reporter), submission(), clock=clock, settings=SETTINGS
    )
    assert incident.reference == f"MACERT-{clock.now().year}-000001"
    assert (incident.status, incident.priority, incident.tlp, incident.pap) == (
        "new",
        "P2",
        "TLP:AMBER",
        "PAP:AMBER",
    )
    assert incident.ack_due_at == clock.now() + dt.timedelta(hours=4)
    assert incident.resolve_due_at == clock.now() + dt.timedelta(days=3)
    assert incident.early_warning_due_at is None
    found = {(o.type, o.value) for o in incident.observables}
    assert found == {
        ("email", "securite@interieur-gov.ma"),
        ("domain", "interieur-gov.ma"),
        ("url", "https://webmail-interieur.com/login.php"),
        ("domain", "webmail-interieur.com"),
        ("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        ("ipv4", "185.220.101.4"),
    }
    assert all(o.tlp == "TLP:AMBER" and o.sources == ["description"] for o in incident.observables)
    mail = db_session.scalars(select(OutboxMessage)).one()
    assert mail.to_addr == "rssi@interieur.gov.ma" and mail.language == "fr"
    assert mail.subject is None and mail.template is not None  # rendered when sent
    subject, text, html = rendered(mail)
    assert incident.reference in subject and "[TLP:AMBER]" in subject
    assert ("Hameçonnage" in text or "Phishing" in text) and "P2" in text
    assert f"https://cert.example.ma/track/{incident.reference}" in text
    assert html is not None and f'href="https://cert.example.ma/track/{incident.reference}"' in html
    events = db_session.scalars(select(IncidentEvent)).all()
    assert [(e.kind, e.public) for e in events] == [("created", True)]


def test_explicit_observables_merge_with_extracted_ones(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    data = submission(
        observables=[
            {"type": "ipv4", "value": "185.220.101.4"},
            {"type": "CVE", "value": "cve-2024-3400"},
        ]
    )
    incident = submit_incident(db_session, actor_of(reporter), data, clock=clock, settings=SETTINGS)
    by_value = {o.value: o for o in incident.observables}
    assert by_value["185.220.101.4"].sources == ["description", "api"]
    assert by_value["CVE-2024-3400"].type == "cve"


def test_every_bad_field_is_named_and_nothing_is_written(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    data = submission(
        category="fraud",
        type="ddos",
        observables=[{"type": "ipv4", "value": "999.1.1.1"}, {"type": "x", "value": "y"}],
    )
    with pytest.raises(ValidationFailed) as err:
        submit_incident(db_session, actor_of(reporter), data, clock=clock, settings=SETTINGS)
    assert set(err.value.fields) == {"type"}  # classification checked first, then observables
    data = submission(
        observables=[{"type": "ipv4", "value": "999.1.1.1"}, {"type": "x", "value": "y"}]
    )
    with pytest.raises(ValidationFailed) as err:
        submit_incident(db_session, actor_of(reporter), data, clock=clock, settings=SETTINGS)
    assert set(err.value.fields) == {"observables[0]", "observables[1]"}
    assert "999" in err.value.fields["observables[0]"]
    assert db_session.scalars(select(OutboxMessage)).all() == []


def test_significant_incidents_carry_nis2_deadlines(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    detected = clock.now() - dt.timedelta(hours=6)
    incident = submit_incident(
        db_session,
        actor_of(reporter),
        submission(significant=True, detected_at=detected),
        clock=clock,
        settings=SETTINGS,
    )
    assert incident.early_warning_due_at == detected + dt.timedelta(hours=24)
    assert incident.notification_due_at == detected + dt.timedelta(hours=72)


def test_reporters_report_for_their_own_organisation_only(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    make_org(db_session, clock, slug="min-sante")
    with pytest.raises(ValidationFailed) as err:
        submit_incident(
            db_session,
            actor_of(reporter),
            submission(organisation="min-sante"),
            clock=clock,
            settings=SETTINGS,
        )
    assert "organisation" in err.value.fields
    own = submit_incident(
        db_session,
        actor_of(reporter),
        submission(organisation="min-interieur"),
        clock=clock,
        settings=SETTINGS,
    )
    assert own.organisation.slug == "min-interieur"


def test_cert_staff_name_the_organisation(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    analyst = Actor.for_user(make_user(db_session, clock, role=Role.ANALYST))
    with pytest.raises(ValidationFailed):
        submit_incident(db_session, analyst, submission(), clock=clock, settings=SETTINGS)
    incident = submit_incident(
        db_session,
        analyst,
        submission(
            organisation="min-interieur", contact={"name": "Hicham", "email": "h@interieur.gov.ma"}
        ),
        clock=clock,
        settings=SETTINGS,
    )
    assert incident.organisation.slug == "min-interieur"
    assert db_session.scalars(select(OutboxMessage.to_addr)).one() == "h@interieur.gov.ma"


def test_other_organisations_get_not_found(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    incident = submit_incident(
        db_session, actor_of(reporter), submission(), clock=clock, settings=SETTINGS
    )
    other = Actor.for_user(
        make_user(db_session, clock, org=make_org(db_session, clock, slug="min-sante"))
    )
    with pytest.raises(NotFound):
        get_incident(db_session, other, incident.reference)
    assert get_incident(db_session, actor_of(reporter), incident.reference.lower()) is incident


def test_source_ref_deduplicates_per_organisation_within_the_window(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    first = submit_incident(
        db_session,
        actor_of(reporter),
        submission(source_ref="SIEM-4411"),
        clock=clock,
        settings=SETTINGS,
    )
    with pytest.raises(Conflict) as err:
        submit_incident(
            db_session,
            actor_of(reporter),
            submission(source_ref="SIEM-4411"),
            clock=clock,
            settings=SETTINGS,
        )
    assert first.reference in err.value.message
    other = Actor.for_user(
        make_user(db_session, clock, org=make_org(db_session, clock, slug="min-sante"))
    )
    assert submit_incident(
        db_session, other, submission(source_ref="SIEM-4411"), clock=clock, settings=SETTINGS
    )
    clock.advance(days=31)
    later = submit_incident(
        db_session,
        actor_of(reporter),
        submission(source_ref="SIEM-4411"),
        clock=clock,
        settings=SETTINGS,
    )
    assert later.reference != first.reference


def test_overlapping_observables_flag_a_likely_duplicate(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    first = submit_incident(
        db_session, actor_of(reporter), submission(), clock=clock, settings=SETTINGS
    )
    second = submit_incident(
        db_session,
        actor_of(reporter),
        submission(title="Encore du phishing", description="Toujours 185.220.101.4 en source."),
        clock=clock,
        settings=SETTINGS,
    )
    third = submit_incident(
        db_session,
        actor_of(reporter),
        submission(title="Autre chose", description="Rien de commun ici."),
        clock=clock,
        settings=SETTINGS,
    )
    assert second.possible_duplicates == [first.reference]
    assert third.possible_duplicates == []
