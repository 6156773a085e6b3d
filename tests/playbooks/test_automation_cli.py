"""``cert playbooks triggers|trigger-add|trigger-set|trigger-remove`` and the schedule commands
against a real database (both backends): errors name the field and exit 1, JSON lists, audit
rows under ``cli:<login>``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from cert.cli import cli, load_commands
from core.audit import AuditEntry
from core.clock import SystemClock
from playbooks.models import PlaybookSchedule, PlaybookTrigger
from tests.dbs import TestDatabase
from tests.kit.factories import make_org
from tests.playbooks.automation_kit import check_playbook, response_playbook

load_commands()


@pytest.fixture
def invoke(fresh_database: TestDatabase, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
        "CERT_TIMEZONE": "Europe/Paris",
    }

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["playbooks", *args], env=env, catch_exceptions=False)

    return run


def test_triggers_and_schedules_from_the_command_line(
    invoke: Any, fresh_database: TestDatabase
) -> None:
    with Session(fresh_database.engine) as session:
        clock = SystemClock()
        after, before = response_playbook(session, clock), check_playbook(session, clock)
        make_org(session, clock, slug="min-finances", name="Ministère des Finances")
        session.commit()
        after_id, before_id, before_cacao = after.id, before.id, before.cacao_id

    refused = invoke(
        "trigger-add",
        str(after_id),
        "--event",
        "created",
        "--category",
        "malicious-code",
        "--type",
        "ransomware",
        "--min-priority",
        "P2",
    )
    assert refused.exit_code == 1
    assert "conditions.types: unknown RSIT type 'ransomware'" in refused.output
    added = invoke(
        "trigger-add",
        str(after_id),
        "--event",
        "created",
        "--category",
        "malicious-code",
        "--type",
        "infected-system",
        "--min-priority",
        "p2",
        "--organisation",
        "min-finances",
    )
    assert added.exit_code == 0, added.output
    assert invoke("trigger-add", str(before_id), "--event", "created").exit_code == 1
    assert invoke("trigger-add", "1", "--event", "created", "--organisation", "nope").exit_code == 1
    listed = json.loads(invoke("triggers", "--json").output)
    [trigger] = listed
    assert trigger["conditions"]["types"] == ["infected-system"]
    assert trigger["conditions"]["min_priority"] == "P2"
    assert "on created [enabled]" in invoke("triggers").output
    assert invoke("trigger-set", str(trigger["id"]), "--disable").exit_code == 0
    assert json.loads(invoke("triggers", "--json").output)[0]["enabled"] is False

    bad = invoke("schedule-add", before_cacao, "--cron", "0 7 * *")
    assert bad.exit_code == 1 and "cron:" in bad.output and "five fields" in bad.output
    made = invoke(
        "schedule-add", str(before_id), "--cron", "0 7 * * *", "--organisation", "min-finances"
    )
    assert made.exit_code == 0, made.output
    assert "(0 7 * * *, Europe/Paris)" in made.output
    [schedule] = json.loads(invoke("schedules", "--json").output)
    assert schedule["timezone"] == "Europe/Paris" and len(schedule["organisation_ids"]) == 1
    assert "every day at 07:00" in invoke("schedules").output
    changed = invoke(
        "schedule-set", str(schedule["id"]), "--cron", "0 6 * * 1", "--all-organisations"
    )
    assert changed.exit_code == 0, changed.output
    [after_change] = json.loads(invoke("schedules", "--json").output)
    assert after_change["organisation_ids"] is None
    assert after_change["next_fire_at"] != schedule["next_fire_at"]
    assert invoke("schedule-remove", str(schedule["id"])).exit_code == 0
    assert invoke("trigger-remove", str(trigger["id"])).exit_code == 0
    with Session(fresh_database.engine) as session:
        assert session.scalars(select(PlaybookTrigger)).all() == []
        assert session.scalars(select(PlaybookSchedule)).all() == []
        labels = set(
            session.scalars(
                select(AuditEntry.actor_label).where(
                    AuditEntry.object_type.in_(("playbook_trigger", "playbook_schedule"))
                )
            )
        )
        assert len(labels) == 1 and labels.pop().startswith("cli:")
