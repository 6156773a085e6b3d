"""POST /api/v1/incidents: Idempotency-Key, source_ref duplicates and who may name the
reporting organisation (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.models import Organisation
from core.outbox import OutboxMessage
from incidents.models import IdempotencyKey
from tests.kit.api import (
    PHISHING,
    URL,
    api_user,
    envelope,
    incident_count,
    submit,
)
from tests.kit.factories import make_org


# ---------------------------------------------------------------- idempotency
def test_the_same_key_and_body_return_the_same_incident(
    client: FlaskClient, db_session: Session, reporter_token: str
) -> None:
    first = submit(client, reporter_token, **{"Idempotency-Key": "batch-17/item-3"})
    assert first.status_code == 201
    again = submit(client, reporter_token, **{"Idempotency-Key": "batch-17/item-3"})
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert incident_count(db_session) == 1
    assert len(db_session.scalars(select(OutboxMessage)).all()) == 1  # one acknowledgement
    assert db_session.scalars(select(IdempotencyKey.key)).all() == ["batch-17/item-3"]


def test_the_same_validated_body_written_differently_is_the_same_request(
    client: FlaskClient, db_session: Session, reporter_token: str
) -> None:
    key = {"Idempotency-Key": "k-1"}
    assert (
        submit(client, reporter_token, {**PHISHING, "tlp": "TLP:AMBER"}, **key).status_code == 201
    )
    same = {**PHISHING, "tlp": "amber", "pap": "PAP:AMBER", "title": f"  {PHISHING['title']} "}
    assert submit(client, reporter_token, same, **key).status_code == 200
    assert incident_count(db_session) == 1


def test_the_same_key_with_another_body_is_409(
    client: FlaskClient, db_session: Session, reporter_token: str
) -> None:
    assert submit(client, reporter_token, **{"Idempotency-Key": "k-2"}).status_code == 201
    other = {**PHISHING, "impact": "low"}
    error = envelope(submit(client, reporter_token, other, **{"Idempotency-Key": "k-2"}), 409)
    assert "Idempotency-Key" in error["fields"]
    assert incident_count(db_session) == 1


def test_keys_are_per_user(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    reporter_token: str,
) -> None:
    colleague = api_user(db_session, clock, interieur)[1]
    assert submit(client, reporter_token, **{"Idempotency-Key": "shared"}).status_code == 201
    assert submit(client, colleague, **{"Idempotency-Key": "shared"}).status_code == 201
    assert incident_count(db_session) == 2


@pytest.mark.parametrize("key", ["", "k" * 201, "clé-accentuée", "tab\there"])
def test_an_invalid_idempotency_key_is_422_naming_the_header(
    client: FlaskClient, db_session: Session, reporter_token: str, key: str
) -> None:
    response = client.post(
        URL,
        json=PHISHING,
        headers=[("Authorization", f"Bearer {reporter_token}"), ("Idempotency-Key", key)],
    )
    assert set(envelope(response, 422)["fields"]) == {"Idempotency-Key"}
    assert incident_count(db_session) == 0


def test_a_200_character_key_is_accepted(client: FlaskClient, reporter_token: str) -> None:
    assert submit(client, reporter_token, **{"Idempotency-Key": "k" * 200}).status_code == 201


# ---------------------------------------------------------------- source_ref, organisation
def test_a_source_ref_already_reported_is_409_naming_the_incident(
    client: FlaskClient, db_session: Session, reporter_token: str
) -> None:
    first = submit(client, reporter_token, {**PHISHING, "source_ref": "SOC-42"}).get_json()
    error = envelope(
        submit(client, reporter_token, {**PHISHING, "source_ref": "SOC-42"}), 409, "conflict"
    )
    assert (
        first["reference"] in error["message"]
        and first["reference"] in error["fields"]["source_ref"]
    )
    assert incident_count(db_session) == 1


def test_cert_staff_report_for_a_named_organisation(
    client: FlaskClient, db_session: Session, interieur: Organisation, analyst_token: str
) -> None:
    missing = envelope(submit(client, analyst_token), 422)
    assert set(missing["fields"]) == {"organisation"}
    unknown = envelope(
        submit(client, analyst_token, {**PHISHING, "organisation": "min-nulle-part"}), 422
    )
    assert set(unknown["fields"]) == {"organisation"}
    response = submit(client, analyst_token, {**PHISHING, "organisation": "min-interieur"})
    assert response.status_code == 201
    assert response.get_json()["organisation"] == "min-interieur"


def test_reporters_may_name_their_own_organisation_only(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter_token: str
) -> None:
    make_org(db_session, clock, slug="min-sante")
    own = submit(client, reporter_token, {**PHISHING, "organisation": "min-interieur"})
    assert own.status_code == 201
    other = envelope(submit(client, reporter_token, {**PHISHING, "organisation": "min-sante"}), 422)
    assert set(other["fields"]) == {"organisation"}
    assert incident_count(db_session) == 1
