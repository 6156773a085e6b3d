"""Beyond one machine, on loopback: two ``cert web`` (gunicorn) and two ``cert scheduler`` processes
against one PostgreSQL schema (migrated by ``cert db upgrade``) and the machine's Redis.

A burst of API submissions spread over both web processes while the leading scheduler is killed
(``kill -9``): no report lost or doubled, every acknowledgement sent once, no job slot run twice,
every domain event delivered once per handler. Rate limits (API writes per token, sign-in per
address) are counted across both web processes, and sign-in sessions work on either.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from core.clock import FrozenClock
from core.db import SessionFactory, make_session_factory
from core.events.store import DeliveryStatus, DomainEvent, EventDelivery
from core.identity.models import Role
from core.jobs import JobRun, JobStatus
from core.outbox import OutboxMessage, OutboxStatus
from incidents.intake.acknowledgement import ACKNOWLEDGEMENT
from incidents.models import Incident
from tests.dbs import TestDatabase, create_database
from tests.deploy.hosts import (
    Answer,
    WebProcess,
    cert_db_upgrade,
    flush_redis,
    host_env,
    lock_holder_pid,
)
from tests.kit.api import URL, bearer, committed_reporters
from tests.kit.factories import PASSWORD, PHISHING, make_user
from tests.kit.scheduler import SchedulerProcess, closed_port, elect, wait_until
from tests.kit.smtp import SmtpServer, smtp_server
from tests.kit.web import csrf_token

# its tests share Redis database 7 (flushed): one pytest-xdist worker runs them all
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.xdist_group("redis-7")]
STARTUP = 180  # seconds for a process to start and elect: generous, for a loaded machine

TOKENS = 4  # reporters, each with an API token, each posting from a thread of its own
PER_TOKEN = 8  # submissions per token (with the retries, 11: within API_LIMIT)
RETRY_EVERY = 3  # every third submission is sent again, same Idempotency-Key, other web process


@dataclass
class Deployment:
    db: TestDatabase
    tmp: Path
    smtp: SmtpServer

    def env(self, **extra: str) -> dict[str, str]:
        return host_env(self.db.url, self.tmp, CERT_SMTP_URL=self.smtp.url, **extra)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("multihost")
    db = create_database("postgresql", tmp, migrate=False)  # an empty schema of its own
    flush_redis()
    try:
        with smtp_server() as smtp:
            deployment = Deployment(db, tmp, smtp)
            cert_db_upgrade(deployment.env())  # the one-off migration step, as a process
            yield deployment
    finally:
        flush_redis()
        db.drop()


@pytest.fixture
def webs() -> Iterator[list[WebProcess]]:
    started: list[WebProcess] = []
    yield started
    for web in started:
        web.stop()


@pytest.fixture
def schedulers() -> Iterator[list[SchedulerProcess]]:
    started: list[SchedulerProcess] = []
    yield started
    for process in started:
        process.close()


def start_webs(env: dict[str, str], webs: list[WebProcess], count: int = 2) -> list[WebProcess]:
    webs += [WebProcess(env) for _ in range(count)]
    for web in webs:
        web.wait_ready()
    return webs


API_LIMIT, LOGIN_LIMIT = 12, 8  # per minute: per token (API writes), per client address (sign-in)


@pytest.fixture(scope="module")
def pair(deployment: Deployment) -> Iterator[list[WebProcess]]:
    """The two web processes of the module's tests (booting gunicorn workers is what costs)."""
    env = deployment.env(
        CERT_API_WRITE_RATE_LIMIT=f"{API_LIMIT} per minute",
        CERT_LOGIN_RATE_LIMIT=f"{LOGIN_LIMIT} per minute",
    )
    started: list[WebProcess] = []
    try:
        yield start_webs(env, started)
    finally:
        for web in started:
            web.stop()


# ------------------------------------------------------------------ the burst and the kill
def _post(web: WebProcess, token: str, key: str, n: int) -> Answer:
    body = {**PHISHING, "title": f"{PHISHING['title']} #{key[:8]}"}
    return web.request("POST", URL, body, bearer(token, **{"Idempotency-Key": key}))


def _burst(webs: list[WebProcess], tokens: list[str]) -> tuple[list[Answer], list[str]]:
    """Each token's thread posts ``PER_TOKEN`` submissions, alternating web processes; every
    ``RETRY_EVERY``-th is repeated on the other process (a client retrying after a timeout)."""
    answers: list[tuple[str, Answer, Answer | None]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(index: int, token: str) -> None:
        for n in range(PER_TOKEN):
            key = uuid.uuid4().hex
            first, other = webs[(index + n) % 2], webs[(index + n + 1) % 2]
            try:
                answer = _post(first, token, key, n)
                again = _post(other, token, key, n) if n % RETRY_EVERY == 0 else None
            except OSError as exc:  # a refused or dropped connection is a lost report
                with lock:
                    errors.append(f"{key}: {exc!r}")
                continue
            with lock:
                answers.append((key, answer, again))

    threads = [threading.Thread(target=client, args=(i, t)) for i, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads)
    retried = []
    for key, answer, again in answers:
        assert answer.status == 201, (key, answer)
        if again is not None:  # the retry answers the same incident: 200, same reference
            assert again.status == 200, (key, again)
            assert again.body["reference"] == answer.body["reference"]
            retried.append(key)
    return [answer for _, answer, _ in answers], errors


def _runner_pid(run: JobRun) -> int:
    return int((run.runner or ":0").rsplit(":", 1)[1])


def _kill_leader_mid_job(db: TestDatabase, leader: SchedulerProcess) -> list[JobRun]:
    """SIGKILL the leader while it has job runs in flight (jobs run in parallel threads) but no
    e-mail claimed; its runs in flight.

    The leader is frozen (SIGSTOP) while the database is looked at, so what is seen is what it
    dies with. In-flight e-mails are left out on purpose: their lease (5 minutes) would hold
    the test; that case is the outbox's own (tests/core/test_mail_sender*.py)."""
    factory = make_session_factory(db.engine)

    def frozen_mid_job() -> list[JobRun] | None:
        os.kill(leader.pid, signal.SIGSTOP)
        with factory() as session:
            running = session.scalars(
                select(JobRun).where(JobRun.status == JobStatus.RUNNING)
            ).all()
            sending = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.SENDING)
            )
        mine = [run for run in running if _runner_pid(run) == leader.pid]
        if mine and not sending:
            leader.kill()  # SIGKILL reaches a stopped process
            return mine
        os.kill(leader.pid, signal.SIGCONT)
        return None

    return wait_until(frozen_mid_job, 60, "the leader in the middle of a job run")


def test_a_burst_over_two_web_processes_survives_the_leader_killed(
    deployment: Deployment, pair: list[WebProcess], schedulers: list[SchedulerProcess]
) -> None:
    db = deployment.db
    tokens = committed_reporters(make_session_factory(db.engine), FrozenClock(_now()), TOKENS)
    env = deployment.env()
    webs = pair
    schedulers += [SchedulerProcess(env), SchedulerProcess(env)]
    leader, standby = elect(schedulers, STARTUP)
    key = int(env["CERT_SCHEDULER_LOCK_KEY"])
    assert lock_holder_pid(db.url, key) == leader.pid  # the lock, not the log, names the leader

    done: list[tuple[list[Answer], list[str]]] = []
    burst = threading.Thread(target=lambda: done.append(_burst(webs, tokens)))
    burst.start()
    killed = _kill_leader_mid_job(db, leader)
    burst.join(timeout=300)
    answers, errors = done[0]
    assert errors == []
    assert leader.proc.returncode == -signal.SIGKILL
    standby.wait_for(f"scheduler: leader (pid {standby.pid}", 30)
    wait_until(lambda: lock_holder_pid(db.url, key) == standby.pid, 30, "the standby's lock")

    references = [answer.body["reference"] for answer in answers]
    factory = make_session_factory(db.engine)
    wait_until(lambda: _worked_off(factory), 90, "the backlog to be worked off")

    with factory() as session:
        # every 201 is one stored incident, none lost, none doubled
        stored = Counter(session.scalars(select(Incident.reference)))
        assert len(references) == TOKENS * PER_TOKEN == len(set(references))
        assert stored == Counter(references)
        # one acknowledgement queued per report, and sent
        acks = session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == ACKNOWLEDGEMENT)
        ).all()
        assert Counter(ack.related_id for ack in acks) == Counter(references)  # one each
        assert {ack.status for ack in acks} == {OutboxStatus.SENT}
        by_reference = {ack.related_id: ack for ack in acks}
        # no job slot run twice; the killed leader's run in flight abandoned by the new leader
        runs = session.scalars(select(JobRun)).all()
        slots = Counter((r.job_id, r.scheduled_for) for r in runs if r.status == JobStatus.SUCCESS)
        assert max(slots.values()) == 1
        orphans = [session.get_one(JobRun, run.id) for run in killed]
        assert {o.status for o in orphans} == {JobStatus.ABANDONED}, [o.error for o in orphans]
        assert all(f":{standby.pid})" in (o.error or "") for o in orphans)
        others = [r for r in runs if r.id not in {o.id for o in orphans}]
        in_flight = [r for r in others if r.status == JobStatus.RUNNING]  # the new leader's, now
        assert {_runner_pid(r) for r in in_flight} <= {standby.pid}
        finished = [r for r in others if r.status != JobStatus.RUNNING]
        assert all(r.status == JobStatus.SUCCESS for r in finished), [r.error for r in finished]
        assert {_runner_pid(r) for r in runs} == {leader.pid, standby.pid}
        # every event delivered once to each of its handlers
        deliveries = session.execute(
            select(EventDelivery.event_id, EventDelivery.handler, EventDelivery.status)
        ).all()
        pairs = Counter((event, handler) for event, handler, _ in deliveries)
        assert deliveries and max(pairs.values()) == 1
        assert {status for _, _, status in deliveries} == {DeliveryStatus.DONE}
        submitted = session.scalar(
            select(func.count())
            .select_from(DomainEvent)
            .where(DomainEvent.name == "incident.submitted")
        )
        assert submitted == len(references)
    # every acknowledgement received once by the mail server
    received = deployment.smtp.handler.per_message_id()
    expected = {ack.message_id for ack in by_reference.values()}
    acks_received = Counter({mid: n for mid, n in received.items() if mid in expected})
    assert set(acks_received) == expected
    assert set(acks_received.values()) == {1}
    jobs = sorted(run.job_id for run in killed)
    print(f"burst: {len(references)} reports over 2 web processes, leader killed during {jobs}")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _worked_off(factory: SessionFactory) -> bool:
    """Every e-mail sent, every event dispatched and delivered."""
    with factory() as session:
        unsent = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status != OutboxStatus.SENT)
        )
        undelivered = session.scalar(
            select(func.count())
            .select_from(EventDelivery)
            .where(EventDelivery.status != DeliveryStatus.DONE)
        )
        undispatched = session.scalar(
            select(func.count()).select_from(DomainEvent).where(DomainEvent.dispatched_at.is_(None))
        )
    return not unsent and not undelivered and not undispatched


# ------------------------------------------------------------------ limits shared by the hosts
def _api_limit(webs: list[WebProcess], token: str, other_token: str) -> None:
    """One token's POSTs alternated over both processes: API_LIMIT accepted in all, then 429."""
    statuses, remaining = [], []
    for n in range(API_LIMIT + 4):
        answer = webs[n % 2].request("POST", URL, PHISHING, bearer(token))
        statuses.append(answer.status)
        remaining.append(int(answer.headers.get("x-ratelimit-remaining", "-1")))
    assert statuses == [201] * API_LIMIT + [429] * 4, statuses
    assert remaining == [*range(API_LIMIT - 1, -1, -1), 0, 0, 0, 0], remaining  # one count
    refused = webs[0].request("POST", URL, PHISHING, bearer(token))
    assert refused.status == 429 and int(refused.headers["retry-after"]) >= 1
    assert webs[1].request("POST", URL, PHISHING, bearer(other_token)).status == 201  # per token


def _login(browser: requests.Session, web: WebProcess, email: str, password: str) -> int:
    form = browser.get(f"{web.base}/login", timeout=120)
    assert form.status_code == 200, form.text
    data = {"csrf_token": csrf_token(form.text), "email": email, "password": password}
    return browser.post(
        f"{web.base}/login", data=data, allow_redirects=False, timeout=120
    ).status_code


def test_rate_limits_and_sessions_are_shared_by_the_web_processes(
    deployment: Deployment, pair: list[WebProcess]
) -> None:
    flush_redis()  # the burst's counts gone: this test's own from zero
    factory = make_session_factory(deployment.db.engine)
    clock = FrozenClock(_now())
    token, other_token = committed_reporters(factory, clock, 2)
    with factory() as session:
        people = [make_user(session, clock, role=Role.REPORTER) for _ in range(2)]
        session.commit()
        walker, target = (person.email for person in people)
    a, b = webs = pair
    _api_limit(webs, token, other_token)

    # a session opened on one host is valid on the other (server-side sessions: no stickiness)
    browser = requests.Session()  # cookies are per host name, not per port: one "site"
    assert _login(browser, a, walker, PASSWORD) == 302  # sign-in attempt 1 of 8
    account = browser.get(f"{b.base}/account", allow_redirects=False, timeout=120)
    assert account.status_code == 200 and walker in account.text
    token_b, cookies = csrf_token(account.text), browser.cookies.get_dict()
    assert browser.post(f"{b.base}/logout", data={"csrf_token": token_b}, timeout=120).ok
    # signed out on B: the session row ended, so A refuses the very cookie it was signed in with
    replayed = requests.get(
        f"{a.base}/account", cookies=cookies, allow_redirects=False, timeout=120
    )
    assert replayed.status_code == 401

    # the per-account throttle (in the database) counts failures made on either host
    stranger = requests.Session()
    for n in range(5):  # attempts 2 … 6
        assert _login(stranger, webs[n % 2], target, "wrong password") == 200
    assert _login(stranger, b, target, PASSWORD) == 200  # 7: right password, account waits
    # the per-address limit (Redis) counts the attempts made on both hosts: 8 in all
    assert _login(stranger, a, "nobody@example.org", "x") == 200  # 8
    form = stranger.get(f"{b.base}/login", timeout=120)
    refused = stranger.post(
        f"{b.base}/login",
        data={"csrf_token": csrf_token(form.text), "email": target, "password": PASSWORD},
        allow_redirects=False,
        timeout=120,
    )
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_intake_goes_on_when_the_rate_limit_storage_is_unreachable(
    deployment: Deployment, webs: list[WebProcess]
) -> None:
    """Redis down: requests are limited in each process's memory, with a warning in the log."""
    factory = make_session_factory(deployment.db.engine)
    (token,) = committed_reporters(factory, FrozenClock(_now()), 1)
    env = deployment.env(
        CERT_RATELIMIT_STORAGE_URL=f"redis://127.0.0.1:{closed_port()}/5",
        CERT_API_WRITE_RATE_LIMIT="3 per minute",
    )
    web = WebProcess(env, workers=1)  # one process: its memory holds every count
    webs.append(web)
    web.wait_ready()
    answers = [web.request("POST", URL, PHISHING, bearer(token)) for _ in range(4)]
    assert [answer.status for answer in answers] == [201, 201, 201, 429]
    wait_until(lambda: "Rate limit storage unreachable" in web.output(), 30, "the warning")
    references = [answer.body["reference"] for answer in answers[:3]]
    with factory() as session:
        query = select(Incident.reference).where(Incident.reference.in_(references))
        assert sorted(session.scalars(query)) == sorted(references)
