"""Concurrent API submissions against a database with committed data (SQLite and PostgreSQL):
unique, gap-free references, and one incident per Idempotency-Key even when requests race."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.clock import FrozenClock
from core.errors import Conflict
from core.identity.authz import Actor
from core.identity.models import User
from incidents.intake import idempotency
from incidents.intake.references import format_reference
from incidents.intake.schemas import IncidentSubmission
from incidents.models import IdempotencyKey, Incident, ReferenceCounter
from incidents.settings import IntakeSettings
from tests.dbs import TestDatabase
from tests.kit.api import PHISHING, URL, bearer, committed_reporters
from tests.kit.config import SUITE_SETTINGS
from tests.kit.factories import make_user
from tests.kit.threads import in_parallel

THREADS = 8
PER_THREAD = 5


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def live_app(
    fresh_database: TestDatabase,
    factory: sessionmaker[Session],
    clock: FrozenClock,
    tmp_path: Path,
) -> Flask:
    config = {
        "testing": True,
        **SUITE_SETTINGS,
        "instance_dir": tmp_path / "instance",
        "upload_dir": tmp_path / "uploads",
        "database_url": fresh_database.url,
        "secret_key": "test-secret-key-" + "x" * 32,
        "mail_from": "Vigie <cert@example.test>",
    }
    return create_app(config, session_factory=factory, clock=clock)


def test_parallel_submissions_get_unique_gap_free_references(
    live_app: Flask, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    secrets = committed_reporters(factory, clock, THREADS)

    def work(index: int) -> list[tuple[int, str]]:
        client = live_app.test_client()  # each thread its own client
        answers = []
        for n in range(PER_THREAD):
            body = {**PHISHING, "title": f"Incident {index}-{n}"}
            response = client.post(URL, json=body, headers=bearer(secrets[index]))
            answers.append((response.status_code, response.get_json().get("reference", "")))
        return answers

    answers = [answer for batch in in_parallel(THREADS, work) for answer in batch]
    assert [status for status, _ in answers] == [201] * THREADS * PER_THREAD
    year = clock.now().year
    expected = [format_reference("MACERT", year, n) for n in range(1, THREADS * PER_THREAD + 1)]
    assert sorted(reference for _, reference in answers) == expected
    with factory() as session:
        assert sorted(session.scalars(select(Incident.reference))) == expected
        assert session.scalar(select(ReferenceCounter.last)) == THREADS * PER_THREAD


def test_racing_requests_with_one_idempotency_key_create_one_incident(
    live_app: Flask, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    [secret] = committed_reporters(factory, clock, 1)
    headers = bearer(secret, **{"Idempotency-Key": "retry-storm"})

    def work(_index: int) -> tuple[int, str]:
        response = live_app.test_client().post(URL, json=PHISHING, headers=headers)
        return response.status_code, response.get_json().get("reference", "")

    answers = in_parallel(6, work)
    assert sorted(status for status, _ in answers) == [200] * 5 + [201]
    assert {reference for _, reference in answers} == {
        format_reference("MACERT", clock.now().year, 1)
    }
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
        assert session.scalar(select(ReferenceCounter.last)) == 1


def test_racing_retries_with_one_key_and_a_source_ref_all_replay_the_incident(
    live_app: Flask, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    """A retry storm of one request with an ``Idempotency-Key`` and a ``source_ref``: each retry
    gets 200 and the incident the first one created (201), never 409 "already reported" (the
    retry waits for the key before the ``source_ref`` look-up can see its own first attempt)."""
    [secret] = committed_reporters(factory, clock, 1)
    headers = bearer(secret, **{"Idempotency-Key": "siem-retry-storm"})
    body = {**PHISHING, "source_ref": "SIEM-ALERT-777"}

    def work(_index: int) -> tuple[int, str]:
        response = live_app.test_client().post(URL, json=body, headers=headers)
        return response.status_code, response.get_json().get("reference", "")

    answers = in_parallel(20, work)
    assert sorted(status for status, _ in answers) == [200] * 19 + [201], answers
    assert {reference for _, reference in answers} == {
        format_reference("MACERT", clock.now().year, 1)
    }
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
        assert session.scalar(select(ReferenceCounter.last)) == 1


def miss_first_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next key lookup misses, as when another request commits the key right after it."""
    real = idempotency.replay
    misses = iter([True])

    def replay(*args: Any, **kwargs: Any) -> Incident | None:
        return None if next(misses, False) else real(*args, **kwargs)

    monkeypatch.setattr(idempotency, "replay", replay)


def _submit(
    factory: sessionmaker[Session], user: User, clock: FrozenClock, body: dict[str, Any]
) -> idempotency.Submitted:
    with factory() as session:
        result = idempotency.submit_once(
            session,
            Actor.for_user(user),
            IncidentSubmission.model_validate(body),
            key="k",
            clock=clock,
            settings=IntakeSettings(),
        )
        session.commit()
        return result


def test_losing_the_key_race_answers_the_winners_incident_without_a_gap(
    factory: sessionmaker[Session], clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with factory() as session:
        user = make_user(session, clock, password=None)
        session.commit()
    winner = _submit(factory, user, clock, PHISHING)
    miss_first_lookup(monkeypatch)
    loser = _submit(factory, user, clock, PHISHING)  # its key INSERT hits the unique constraint
    assert winner.created and not loser.created
    assert loser.incident.id == winner.incident.id
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        assert session.scalar(select(ReferenceCounter.last)) == 1  # the loser's number rolled back
    monkeypatch.undo()
    miss_first_lookup(monkeypatch)
    with pytest.raises(Conflict):
        _submit(factory, user, clock, {**PHISHING, "impact": "low"})


def test_racing_requests_with_one_source_ref_create_one_incident(
    live_app: Flask, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    """No Idempotency-Key: the organisation's ``source_ref`` alone keeps racing retries of one
    SIEM alert from becoming several incidents (the others are 409 naming the first)."""
    [secret] = committed_reporters(factory, clock, 1)
    body = {**PHISHING, "source_ref": "SIEM-ALERT-4242"}

    def work(index: int) -> tuple[int, dict[str, Any]]:
        # each body differs (its title), so that only the source_ref makes them duplicates
        sent = {**body, "title": f"{PHISHING['title']} ({index})"}
        response = live_app.test_client().post(URL, json=sent, headers=bearer(secret))
        return response.status_code, response.get_json()

    answers = in_parallel(THREADS, work)
    assert sorted(status for status, _ in answers) == [201] + [409] * (THREADS - 1)
    [created] = [answer for status, answer in answers if status == 201]
    for status, answer in answers:
        if status == 409:
            duplicate = f"duplicate of {created['reference']}"
            assert answer["error"]["fields"] == {"source_ref": duplicate}
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        assert session.scalar(select(ReferenceCounter.last)) == 1  # the 409s left no gap
