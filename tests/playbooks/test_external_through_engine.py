"""An external x-vigie action through the real runner: ``poll-feed`` commits page by page in
the session the engine hands it, after the step's "interrupted" record was committed — the
run still ends with the step recorded once, completed, its output read by a condition."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.markings import Tlp
from feeds.models import Feed, FeedKind, Indicator
from feeds.settings import FeedSettings
from playbooks.engine.runner import advance_run
from playbooks.models import PlaybookStepRun, RunStatus, StepStatus
from playbooks.settings import PlaybookSettings
from tests.feeds.served import serve
from tests.playbooks.engine_kit import action, playbook, start, trail

SETTINGS = PlaybookSettings(feeds=FeedSettings(allow_private=True, timeout_seconds=10))


def test_poll_feed_runs_once_through_the_engine_and_feeds_a_condition(
    factory: sessionmaker[Session], clock: FrozenClock, tmp_path: Path
) -> None:
    doc = playbook({
        "start": {"type": "start", "on_completion": "poll"},
        "poll": action({"type": "x-vigie", "command": "poll-feed",
                        "arguments": {"feed": "abuse-ips"}}, then="check"),
        "check": {"type": "if-condition", "condition": "__new_indicators__:value > 1",
                  "on_true": "yes", "on_completion": "end"},
        "yes": {"type": "end"},
        "end": {"type": "end"},
    })  # fmt: skip
    with serve(tmp_path) as served:
        (served.root / "ips.txt").write_text("203.0.113.9\n203.0.113.10\n")
        with factory() as session:
            session.add(Feed(name="abuse-ips", kind=FeedKind.CSV, url=f"{served.base}/ips.txt",
                             default_tlp=Tlp.CLEAR, value_type="ipv4",
                             created_at=clock.now()))  # fmt: skip
            session.commit()
            run = start(session, doc, clock, settings=SETTINGS)
        status = advance_run(factory, run.id, clock=clock, settings=SETTINGS)
    assert status == RunStatus.COMPLETED
    with factory() as session:
        assert trail(session, run) == ["start", "poll", "check", "yes", "end"]
        poll = session.scalars(
            select(PlaybookStepRun).where(
                PlaybookStepRun.run_id == run.id, PlaybookStepRun.step_id == "poll"
            )
        ).one()
        assert poll.status == StepStatus.COMPLETED and poll.outputs == {"__new_indicators__": 2}
        assert session.scalar(select(func.count()).select_from(Indicator)) == 2
