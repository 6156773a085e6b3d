"""Every command the containers of docker/compose.yaml run, run here as processes: the same
entrypoint, the same command lines and the same environment, each container address mapped to
its loopback counterpart (PostgreSQL: a schema of its own in the test database; Redis: database
8; the mail catcher: tests/kit/smtp.py; the secrets: files made by docker/make-secrets.sh)."""

from __future__ import annotations

import http.client
import random
import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cert import schema
from core.identity.models import User
from tests.dbs import TestDatabase, create_database
from tests.deploy import processes, stack
from tests.kit.scheduler import wait_until
from tests.kit.smtp import SmtpServer, free_port, smtp_server

REDIS_URL = "redis://127.0.0.1:6379/8"

# its tests share Redis database 8 (flushed): one pytest-xdist worker runs them all
pytestmark = pytest.mark.xdist_group("redis-8")
ADMIN_PASSWORD = "Correct-Horse-Battery-42"
# compose.yaml's own knobs: one web worker on a test machine, and a TLS proxy in front
VARIABLES = {"VIGIE_WEB_WORKERS": "1", "VIGIE_PROXY_COUNT": "1"}


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[TestDatabase]:
    """A PostgreSQL schema nobody migrated: the migrate service's job."""
    database = create_database("postgresql", tmp_path, migrate=False)
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture
def rate_limit_store() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def mail() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


def environments(
    tmp_path: Path, database: TestDatabase, mail: SmtpServer
) -> dict[str, dict[str, str]]:
    secrets = tmp_path / "secrets"
    made = processes.run(["true"], {"PATH": "/usr/bin:/bin"})  # the entrypoint alone refuses
    assert made.returncode == 78 and "CERT_SECRET_KEY" in made.stderr
    processes.subprocess.run(["sh", str(stack.MAKE_SECRETS), str(secrets)], check=True)
    bin_dir = processes.cert_on_path(tmp_path / "bin")
    lock_key = str(random.randint(1, 2**62))  # advisory locks are per database, not per schema
    envs = {}
    for service in stack.VIGIE_SERVICES:
        env = stack.loopback_environment(
            service,
            secrets_dir=secrets,
            state_dir=tmp_path / "state",
            database_url=database.url,
            redis_url=REDIS_URL,
            smtp_url=mail.url,
            variables=VARIABLES,
        )
        env["CERT_SCHEDULER_LOCK_KEY"] = lock_key
        envs[service] = processes.container_env(env, bin_dir, tmp_path / "home")
    return envs


def loopback_command(service: str, port: int) -> list[str]:
    """The service's command, with web's 0.0.0.0:8000 moved to a free loopback port."""
    command = stack.command(service)
    if "--bind" in command:
        command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    return command


def get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    return response


def ready(port: int) -> http.client.HTTPResponse | None:
    try:
        response = get(port, "/readyz")
    except OSError:
        return None
    return response if response.status == 200 else None


@pytest.mark.slow
@pytest.mark.postgres
def test_migrate_then_web_and_two_schedulers(
    tmp_path: Path,
    empty_database: TestDatabase,
    rate_limit_store: redis.Redis,
    mail: SmtpServer,
) -> None:
    envs = environments(tmp_path, empty_database, mail)

    # migrate: `cert db upgrade`, once
    migrated = processes.run(stack.command("migrate"), envs["migrate"])
    assert migrated.returncode == 0, migrated.stderr
    assert schema.current_revision(empty_database.engine) == schema.head_revision()
    assert migrated.stdout == f"database at revision {schema.head_revision()}\n"

    # the operations guide's first accounts, with `docker compose run --rm web cert …`
    web_env = envs["web"]
    org = processes.run(
        ["cert", "orgs", "create", "--slug", "cert", "--name", "CERT", "--kind", "cert"], web_env
    )
    assert org.returncode == 0, org.stderr
    admin = processes.run(
        ["cert", "users", "create", "--email", "admin@cert.example", "--name", "Admin",
         "--role", "admin", "--org", "cert", "--password-stdin"],
        web_env,
        stdin=ADMIN_PASSWORD + "\n",
    )  # fmt: skip
    assert admin.returncode == 0, admin.stderr
    invited = processes.run(
        ["cert", "users", "create", "--email", "analyst@cert.example", "--name", "Analyst",
         "--role", "analyst", "--org", "cert", "--send-link"],
        web_env,
    )  # fmt: skip
    assert invited.returncode == 0, invited.stderr
    with Session(empty_database.engine) as session:
        roles = {email: str(role) for email, role in session.execute(select(User.email, User.role))}
    assert roles == {"admin@cert.example": "admin", "analyst@cert.example": "analyst"}

    port = free_port()
    web = processes.Service(loopback_command("web", port), web_env)
    schedulers = [
        processes.Service(loopback_command("scheduler", port), envs["scheduler"])
        for _ in range(stack.compose()["services"]["scheduler"]["deploy"]["replicas"])
    ]
    try:
        # web: ready, with request ids and JSON lines
        response = wait_until(lambda: ready(port), 180, f"/readyz on port {port}")
        assert response.getheader("X-Request-ID")
        mine = f"deploy-{uuid.uuid4().hex[:12]}"
        assert get(port, "/readyz", {"X-Request-ID": mine}).getheader("X-Request-ID") == mine
        access = web.wait_for_message("GET /readyz", 30)  # the application's access line
        assert access["logger"] == "vigie.access"
        lines = [r for r in web.records() if r.get("request_id") == mine]
        assert lines and lines[0]["status"] == 200 and lines[0]["path"] == "/readyz"

        # behind the proxy (CERT_PROXY_COUNT=1) a header still cannot rewrite the routed path
        assert get(port, "/hidden/readyz", {"SCRIPT_NAME": "/hidden"}).status == 404

        # the rate limiter counts sign-in attempts in Redis (database 8 here, 0 in compose.yaml)
        assert rate_limit_store.dbsize() == 0
        browser = requests.Session()
        page = browser.get(f"http://127.0.0.1:{port}/login", timeout=30)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert token, page.text[:500]
        attempt = browser.post(
            f"http://127.0.0.1:{port}/login",
            data={"csrf_token": token.group(1), "email": "admin@cert.example", "password": "no"},
            timeout=30,
        )
        browser.close()
        assert attempt.status_code < 500 and attempt.headers["X-Request-ID"]
        assert rate_limit_store.dbsize() > 0

        # two schedulers: one leads, the other waits; the leader sends the invitation
        leader = wait_until(
            lambda: next((s for s in schedulers if "scheduler: leader" in s.text()), None),
            180,
            "a leading scheduler",
        )
        standby = next(s for s in schedulers if s is not leader)
        standby.wait_for_message("scheduler: standby, leader lock held elsewhere", 180)
        assert "scheduler: leader" not in standby.text()
        wait_until(lambda: mail.handler.received, 120, "the invitation through the mail catcher")
        assert mail.handler.received[0].rcpt_tos == ["analyst@cert.example"]
    finally:
        statuses = [service.stop() if service.proc.poll() is None else None
                    for service in (web, *schedulers)]  # fmt: skip
        for service in (web, *schedulers):
            service.close()
    assert statuses == [0, 0, 0], [s.text()[-2000:] for s in (web, *schedulers)]

    # every line each process wrote is JSON, gunicorn's own included
    web_records = web.records()
    loggers = {record["logger"] for record in web_records}
    assert {"gunicorn.error", "vigie.access"} <= loggers
    assert any(r["message"].startswith("Listening at: http://127.0.0.1:") for r in web_records)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in web_records)
    for scheduler in schedulers:
        records = scheduler.records()
        assert any(r["message"].startswith("scheduler: stopped") for r in records)
    with empty_database.engine.connect() as connection:
        runs = connection.execute(text("SELECT count(*) FROM job_runs")).scalar_one()
    assert runs > 0


@pytest.mark.slow
def test_web_exits_non_zero_when_it_cannot_listen(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    processes.subprocess.run(["sh", str(stack.MAKE_SECRETS), str(secrets)], check=True)
    env = stack.environment("web", VARIABLES)
    for name, secret in stack.secret_paths(env).items():
        env[name] = str(secrets / secret)
    env["CERT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'vigie.db'}"
    del env["CERT_DATABASE_PASSWORD_FILE"]  # PostgreSQL's
    env["CERT_INSTANCE_DIR"] = str(tmp_path / "instance")
    bin_dir = processes.cert_on_path(tmp_path / "bin")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = processes.run(
            loopback_command("web", port),
            processes.container_env(env, bin_dir, tmp_path / "home"),
        )
    assert result.returncode == 1, result.stderr
    assert f"Can't connect to ('127.0.0.1', {port})" in result.stderr
    assert "Address already in use" in result.stderr
