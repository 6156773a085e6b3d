"""The slice's foundation: versions of a playbook, idempotent run start, cron slots."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.errors import Conflict
from core.identity.authz import Actor
from core.identity.models import User
from playbooks.engine.runs import start_run
from playbooks.library.services import InvalidPlaybook, current_version, import_playbook
from playbooks.models import Phase, PlaybookRun, RunOrigin, RunStatus
from playbooks.rules.cron import next_fire
from playbooks.settings import PlaybookSettings, parse_allow_list
from tests.kit.factories import report
from tests.playbooks.cacao_kit import document, text
from tests.playbooks.oasis import oasis_problems

ACTOR = Actor.system("test")


def test_versions_keep_history_and_the_newest_runs(db_session: Session, clock: FrozenClock) -> None:
    first = document(modified="2026-11-01T08:00:00.000Z")
    pid = first["id"]
    v1 = import_playbook(db_session, ACTOR, text(first), clock=clock)
    assert v1.created and v1.playbook.current and v1.playbook.phase == Phase.AFTER
    again = import_playbook(db_session, ACTOR, text(first), clock=clock)
    assert not again.created and again.playbook.id == v1.playbook.id
    newer = document(pid=pid, modified="2026-11-02T08:00:00Z")
    v2 = import_playbook(db_session, ACTOR, text(newer), clock=clock)
    older = document(pid=pid, modified="2026-10-01T08:00:00Z")
    v0 = import_playbook(db_session, ACTOR, text(older), clock=clock)
    assert current_version(db_session, pid) == v2.playbook
    assert not v0.playbook.current and not db_session.get(type(v1.playbook), v1.playbook.id).current
    changed = dict(first, name="Another name")
    with pytest.raises(Conflict):
        import_playbook(db_session, ACTOR, text(changed), clock=clock)


def test_a_refused_document_lists_its_problems_and_stores_nothing(
    db_session: Session, clock: FrozenClock
) -> None:
    bad = document()
    del bad["workflow_start"]
    bad["spec_version"] = "cacao-1.0"
    with pytest.raises(InvalidPlaybook) as caught:
        import_playbook(db_session, ACTOR, text(bad), clock=clock)
    paths = {p.path for p in caught.value.problems}
    assert {"$.workflow_start", "$.spec_version"} <= paths
    with pytest.raises(InvalidPlaybook, match="problem"):
        import_playbook(db_session, ACTOR, '{"type": "playbook",', clock=clock)
    assert current_version(db_session, bad["id"]) is None


def test_a_run_starts_once_per_key(db_session: Session, clock: FrozenClock, reporter: User) -> None:
    incident = report(db_session, clock, reporter)
    playbook = import_playbook(db_session, ACTOR, text(document()), clock=clock).playbook
    settings = PlaybookSettings()
    run = start_run(db_session, playbook, origin=RunOrigin.TRIGGER, dedupe_key="k1",
                    actor=ACTOR, clock=clock, settings=settings, incident=incident)  # fmt: skip
    assert run is not None and run.status == RunStatus.PENDING
    assert run.organisation_id == incident.organisation_id
    assert run.deadline_at == clock.now() + dt.timedelta(days=settings.max_days)
    again = start_run(db_session, playbook, origin=RunOrigin.TRIGGER, dedupe_key="k1",
                      actor=ACTOR, clock=clock, settings=settings, incident=incident)  # fmt: skip
    assert again is None
    assert db_session.scalar(select(func.count()).select_from(PlaybookRun)) == 1


def test_cron_slots_follow_the_time_zone() -> None:
    after = dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC)
    assert next_fire("0 7 * * *", "Africa/Casablanca", after) == dt.datetime(
        2026, 12, 5, 6, 0, tzinfo=dt.UTC
    )
    with pytest.raises(ValueError, match="five fields"):
        next_fire("0 7 * *", "UTC", after)
    with pytest.raises(ValueError, match="time zone"):
        next_fire("0 7 * * *", "Mars/Olympus", after)


def test_the_http_allow_list_is_parsed_strictly() -> None:
    targets = parse_allow_list("siem.gov.ma, 10.0.0.5:8443")
    settings = PlaybookSettings(http_allow=targets)
    assert settings.allows("SIEM.gov.ma", None, default_port=443)
    assert settings.allows("10.0.0.5", 8443, default_port=443)
    assert not settings.allows("10.0.0.5", 443, default_port=443)
    for bad in ("https://siem.gov.ma", "siem:99999", "a/b"):
        with pytest.raises(ValueError):
            parse_allow_list(bad)


def test_the_oasis_schemas_judge_documents() -> None:
    doc = document()
    assert oasis_problems(doc) == []
    del doc["workflow_start"]
    doc["workflow"][next(iter(doc["workflow"]))]["type"] = "begin"
    problems = oasis_problems(doc)
    assert any("workflow_start" in p for p in problems), problems
