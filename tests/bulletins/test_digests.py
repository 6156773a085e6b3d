"""Scheduled digests on both databases, delivered to a real aiosmtpd server: once per period
(run twice, across a restart, two schedulers at once), never before the local time of
Casablanca, weekly only on its weekday, each recipient's digest holding only the bulletins its
TLP allows, in its language, with the most restrictive TLP in the subject."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bulletins.authoring import services as svc
from bulletins.digests.periods import last_period
from bulletins.models import Bulletin, DigestFrequency, DigestRun, ListKind
from cert.cli import CliContext, cli, load_commands
from core.clock import FrozenClock
from core.db import SessionFactory, make_engine
from core.identity.authz import Actor
from core.identity.models import User
from core.outbox import OutboxMessage
from core.uow import transaction
from tests.bulletins.digest_scene import (
    A_EXTRA,
    A_SOC,
    B_SOC,
    MONDAY_8AM,
    SETTINGS,
    WEDNESDAY,
    body,
    build,
    mailing,
    publish_again,
    run,
    unsubscribe_path,
)
from tests.bulletins.lists import make_list
from tests.bulletins.test_authoring import draft
from tests.dbs import TestDatabase
from tests.kit.outbox import drain, mailer_for
from tests.kit.smtp import SmtpServer
from tests.kit.world import ORGANISATIONS, PEOPLE

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(WEDNESDAY)


def by_address(smtp: SmtpServer) -> dict[str, list[tuple[str, str]]]:
    """(subject, text) of the messages received, per address."""
    out: dict[str, list[tuple[str, str]]] = {}
    for r in smtp.handler.received:
        out.setdefault(r.rcpt_tos[0], []).append((str(r.message["Subject"]), body(r.message)))
    return out


def test_periods_follow_the_local_clock_and_the_weekday() -> None:
    at, tz = SETTINGS.digest_time, "Africa/Casablanca"
    weekly = last_period(DigestFrequency.WEEKLY, MONDAY_8AM, timezone=tz, at=at, weekday=1)
    assert (str(weekly.start_date), weekly.end) == ("2026-11-30", MONDAY_8AM)
    assert weekly.end - weekly.start == dt.timedelta(days=7)
    earlier = last_period(DigestFrequency.WEEKLY, MONDAY_8AM - MINUTE, timezone=tz, at=at)
    assert str(earlier.start_date) == "2026-11-23"
    on_sunday = last_period(DigestFrequency.WEEKLY, MONDAY_8AM, timezone=tz, at=at, weekday=7)
    assert str(on_sunday.start_date) == "2026-11-29"  # Sunday 6 December, 08:00
    daily = last_period(DigestFrequency.DAILY, MONDAY_8AM - MINUTE, timezone=tz, at=at)
    assert (str(daily.start_date), daily.end) == ("2026-12-05", MONDAY_8AM - dt.timedelta(days=1))


def test_a_weekly_digest_leaves_on_its_weekday_at_local_time_once_per_recipient_tlp(
    factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    scene = build(factory, clock)
    clock.advance(days=3)  # Saturday: Friday's daily digest (empty: no mail), no weekly one
    counts = run(factory, clock, scene.weekly_all, scene.daily_all)
    assert counts == {"queued": 1, "done": 0, "not_due": 1, "mails": 0}
    clock.set(MONDAY_8AM - MINUTE)  # 07:59 in Casablanca (06:59 UTC)
    assert run(factory, clock, scene.weekly_all)["queued"] == 0
    clock.set(MONDAY_8AM)
    assert run(factory, clock, scene.weekly_all) == {"queued": 1, "done": 0, "not_due": 0,
                                                      "mails": 2}  # fmt: skip
    assert run(factory, clock, scene.weekly_all)["done"] == 1  # the same period: nothing more
    clock.advance(hours=5)
    assert run(factory, clock, scene.weekly_all)["mails"] == 0
    drain(factory, mailer_for(smtp), clock)

    got = by_address(smtp)
    assert sorted(got) == [A_SOC, B_SOC]
    [(subject_a, text_a)], [(subject_b, text_b)] = got[A_SOC], got[B_SOC]
    assert subject_a == "[TLP:AMBER] Bulletins de la semaine du 30 novembre 2026"
    assert subject_b == "[TLP:CLEAR] Bulletins de la semaine du 30 novembre 2026"
    assert scene.amber_a in text_a and scene.clear in text_a
    assert "Campagne d'hameçonnage" in text_a and "Important" in text_a
    amber_id = db_id(factory, scene.amber_a)
    assert f"https://vigie.cert.ma/bulletins/{amber_id}\r\n" in text_a  # the bulletin page
    assert f"https://vigie.cert.ma/advisories/{scene.clear}" in text_a
    # B's contact: the AMBER bulletin about A is not in its digest, not even its reference
    assert scene.amber_a not in text_b and "hameçonnage" not in text_b
    assert scene.clear in text_b and "Critique" in text_b
    # registered security contacts are never unsubscribed: no link for them
    assert unsubscribe_path(smtp.handler.received[0].message) is None
    assert "unsubscribe" not in text_a + text_b


def test_an_extra_address_gets_its_digest_in_its_language_with_an_unsubscribe_link(
    factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    scene = build(factory, clock)
    clock.set(MONDAY_8AM)
    assert run(factory, clock, scene.weekly_a)["mails"] == 2  # A's contact and its extra address
    drain(factory, mailer_for(smtp), clock)
    [(subject, text)] = by_address(smtp)[A_EXTRA]
    assert subject.startswith("[TLP:AMBER] ") and "30" in subject
    assert "حملة تصيد" in text  # the Arabic title
    [extra] = [r.message for r in smtp.handler.received if r.rcpt_tos == [A_EXTRA]]
    assert extra["Content-Language"] == "ar"
    assert (unsubscribe_path(extra) or "").startswith("/advisories/unsubscribe/")


def test_a_restart_does_not_send_the_digest_again(
    fresh_database: TestDatabase, factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    scene = build(factory, clock)
    clock.set(MONDAY_8AM)
    assert run(factory, clock, scene.weekly_all)["mails"] == 2
    drain(factory, mailer_for(smtp), clock)
    # a new scheduler process: its own engine and sessions, its own clock a little later
    engine = make_engine(fresh_database.url)
    try:
        restarted = sessionmaker(bind=engine, expire_on_commit=False)
        later = FrozenClock(MONDAY_8AM + dt.timedelta(minutes=5))
        assert run(restarted, later, scene.weekly_all) == {"queued": 0, "done": 1,
                                                            "not_due": 0, "mails": 0}  # fmt: skip
        drain(restarted, mailer_for(smtp), later)
    finally:
        engine.dispose()
    assert len(smtp.handler.received) == 2
    assert set(smtp.handler.per_message_id().values()) == {1}


def test_two_schedulers_at_once_queue_one_digest(
    fresh_database: TestDatabase, factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    scene = build(factory, clock)
    clock.set(MONDAY_8AM)
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def scheduler() -> None:
        engine = make_engine(fresh_database.url)
        try:
            own = sessionmaker(bind=engine, expire_on_commit=False)
            start.wait(timeout=10)
            results.append(run(own, clock, scene.weekly_all, scene.weekly_a))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    # each list queued by exactly one of them, the other finding it done
    assert sum(r["queued"] for r in results) == 2
    assert sum(r["done"] for r in results) == 2
    with transaction(factory) as session:
        assert session.scalar(select(func.count()).select_from(DigestRun)) == 2
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 4
    drain(factory, mailer_for(smtp), clock)
    assert sorted(r.rcpt_tos[0] for r in smtp.handler.received) == sorted(
        [A_SOC, B_SOC, A_SOC, A_EXTRA]
    )  # A's contact is on both lists: one digest from each
    assert set(smtp.handler.per_message_id().values()) == {1}


def test_the_job_is_registered_and_reads_its_settings() -> None:
    from bulletins.slice import SLICE

    [job] = [j for j in SLICE.jobs if j.name == "bulletins.digests"]
    assert job.target == "bulletins.digests.jobs:send_due_digests"
    assert job.interval == "bulletin_digest_interval_seconds"
    assert mailing(FrozenClock(MONDAY_8AM)).settings.timezone == "Africa/Casablanca"


def test_cert_bulletins_digests_run_acts_at_the_given_local_time(
    fresh_database: TestDatabase, factory: SessionFactory, clock: FrozenClock, tmp_path: Path
) -> None:
    scene = build(factory, clock)
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_SECRET_KEY": "k" * 40,
        "CERT_INSTANCE_DIR": str(tmp_path),
        "CERT_MAIL_FROM": "Vigie <cert@cert.example>",
    }
    load_commands()
    context = CliContext()
    try:
        runner = CliRunner()
        command = ["bulletins", "digests", "run", "--now"]
        early = runner.invoke(cli, [*command, "2026-12-07T07:59"], env=env, obj=context)
        assert early.exit_code == 0, early.output
        # 07:59: Saturday's daily digest (nothing published: no mail), no weekly one yet
        assert early.output.strip() == "queued=1 done=0 not_due=2 mails=0"
        due = runner.invoke(cli, [*command, "2026-12-07T08:00"], env=env, obj=context)
        assert due.output.strip() == "queued=3 done=0 not_due=0 mails=4"
        again = runner.invoke(cli, [*command, "2026-12-07T09:30"], env=env, obj=context)
        assert again.output.strip() == "queued=0 done=3 not_due=0 mails=0"
        bad = runner.invoke(cli, [*command, "next monday"], env=env, obj=context)
        assert bad.exit_code == 2 and "--now" in bad.output
    finally:
        if "engine" in vars(context):
            context.engine.dispose()
    with transaction(factory) as session:
        runs = session.execute(select(DigestRun.list_id, DigestRun.period_start)).all()
    assert sorted((i, str(d)) for i, d in runs) == sorted(
        [(scene.daily_all, "2026-12-05"), (scene.daily_all, "2026-12-06"),
         (scene.weekly_all, "2026-11-30"),
         (scene.weekly_a, "2026-11-30")]
    )  # fmt: skip


def test_a_red_bulletin_only_reaches_the_digest_of_the_named_list_it_was_sent_to(
    factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    scene = build(factory, clock)
    with factory() as session:
        named = [{"email": "dg@interieur.gov.ma", "name": "DG"}]
        others = [{"email": "veilleur@sante.gov.ma", "name": "Veilleur"}]
        cellule = make_list(session, clock, "cellule", ListKind.NAMED, members=named,
                            digest=DigestFrequency.WEEKLY)  # fmt: skip
        veille = make_list(session, clock, "veille", ListKind.NAMED, members=others,
                           digest=DigestFrequency.WEEKLY)  # fmt: skip
        ids = (cellule.id, veille.id)
        session.commit()
    red = publish_again(factory, clock, tlp="red", lists=["cellule"],
                        texts={"fr": {"title": "Compromission en cours"}})  # fmt: skip
    clock.set(MONDAY_8AM)
    assert run(factory, clock, *ids)["mails"] == 2
    drain(factory, mailer_for(smtp), clock)
    got = by_address(smtp)
    [(subject_dg, text_dg)] = got["dg@interieur.gov.ma"]
    [(subject_other, text_other)] = got["veilleur@sante.gov.ma"]
    assert subject_dg.startswith("[TLP:RED] ") and red in text_dg
    assert subject_other.startswith("[TLP:CLEAR] ")  # only the CLEAR bulletin
    assert red not in text_other and "Compromission" not in text_other
    assert scene.amber_a not in text_other + text_dg  # named, but not of the organisation


def db_id(factory: sessionmaker[Session], reference: str) -> int:
    with factory() as session:
        found = session.scalar(select(Bulletin.id).where(Bulletin.reference == reference))
    assert found is not None
    return found


def test_a_revision_in_progress_moving_an_amber_bulletin_changes_no_digest(
    factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    """The AMBER bulletin about A, reopened and set about B: until that revision is published,
    its published content (about A) must not reach B's contact through a digest."""
    scene = build(factory, clock)
    with factory() as session:
        analyst = session.scalar(select(User).where(User.email == PEOPLE["analyst"]["email"]))
        assert analyst is not None
        bulletin = session.scalars(
            select(Bulletin).where(Bulletin.reference == scene.amber_a)
        ).one()
        actor = Actor.for_user(analyst)
        svc.revise(session, actor, bulletin, clock=clock)
        moved = draft(tlp="amber", organisations=[ORGANISATIONS["sante"]["slug"]])
        svc.update_draft(session, actor, bulletin, moved, clock=clock)
        session.commit()
    clock.set(MONDAY_8AM)
    assert run(factory, clock, scene.weekly_all)["mails"] == 2
    drain(factory, mailer_for(smtp), clock)
    got = by_address(smtp)
    [(_, text_a)], [(_, text_b)] = got[A_SOC], got[B_SOC]
    assert scene.amber_a in text_a  # its published readers keep it
    assert scene.amber_a not in text_b and "hameçonnage" not in text_b
