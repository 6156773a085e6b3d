"""Fan-out of one bulletin to 1,000 recipients: from publication to the last delivery at a local
SMTP server (aiosmtpd, the controller and recording handler of the test suite).

On a throw-away migrated database (``bench/intake.py``'s: a SQLite file, or a PostgreSQL
schema), ``--count`` ministries with one registered contact each, created directly, and a
distribution list "all administrations". Then, per scenario:

1. **Publish** — a TLP:GREEN advisory, written by an analyst and approved by a lead through the
   authoring services, is published to the list by
   :func:`bulletins.distribution.sending.publish_and_send`, as the publish page does: one
   transaction resolves the list to its recipients, checks the TLP, numbers the bulletin and
   queues one outbox message per recipient (a template and its context, rendered in the
   recipient's language when first claimed) with its delivery row.
2. **Drain** — right after the commit, the sender runs :func:`core.mail_sender.drain_outbox`
   as the scheduler's ``mail.drain_outbox`` job does (``SmtpMailer``, batches of 100, a 20 s
   time slice) again and again until the server holds every message: several messages per SMTP
   connection, outcomes recorded in groups.
3. **Checks** — every Message-ID received exactly once at the server, every outbox row
   ``sent``.

Scenarios: ``steady`` (the server stays up) and ``restart`` (the server is stopped after
``--stop-after`` messages and started again on the same port ``--down`` seconds later; the
messages that failed meanwhile are retried after ``--backoff`` seconds — the scheduler's real
back-off starts at 30 s). Time: publication start to last delivery; target ``--target``
seconds (10). Exit status 1 when a scenario misses the target or loses or doubles a message.

    .venv/bin/python bench/fanout.py
    .venv/bin/python bench/fanout.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent  # keep sibling scripts (bench/queue.py) off the path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from multiprocessing.connection import Connection  # noqa: E402
from multiprocessing.sharedctypes import Synchronized  # noqa: E402
from typing import Any  # noqa: E402

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bench.emit import add_option, emit, enable  # noqa: E402
from bench.intake_setup import analyse, bench_database  # noqa: E402
from bulletins.authoring import services as authoring  # noqa: E402
from bulletins.authoring.schemas import DraftIn  # noqa: E402
from bulletins.distribution.sending import publish_and_send  # noqa: E402
from bulletins.models import DigestFrequency, DistributionList, ListKind  # noqa: E402
from bulletins.settings import BulletinSettings  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.config import SmtpSettings  # noqa: E402
from core.db import SessionFactory, make_engine, make_session_factory  # noqa: E402
from core.identity.authz import Actor  # noqa: E402
from core.identity.models import Organisation, OrganisationKind, Role, User  # noqa: E402
from core.mail_sender import drain_outbox  # noqa: E402
from core.mailers import SmtpMailer  # noqa: E402
from core.outbox import OutboxMessage, OutboxStatus  # noqa: E402
from core.uow import transaction  # noqa: E402
from tests.kit.smtp import free_port  # noqa: E402

MAIL_FROM = "maCERT <bulletins@cert.gov.ma>"
DOMAIN = "cert.gov.ma"
SETTINGS = BulletinSettings(base_url="https://vigie.cert.gov.ma", mail_domain=DOMAIN)
SCHEDULER_TIME_SLICE = 20.0  # cert.scheduler.adapters.OUTBOX_TIME_SLICE_SECONDS


@dataclass
class Result:
    backend: str
    scenario: str
    seconds: float
    publish_seconds: float
    received: int
    duplicates: int
    lost: int  # queued, never received
    unsent: int  # outbox rows not marked sent
    connections: int
    drains: int
    cpu: float  # the publishing and sending process's CPU seconds (the load of others aside)
    retried: int = 0  # messages sent after a failed attempt (the restart scenario's)


def create_recipients(factory: SessionFactory, count: int) -> int:
    """``count`` ministries with one registered contact each, and the list of them all."""
    now = SystemClock().now()
    rows = [
        {"slug": f"ministere-{n:04d}", "name": f"Ministère n° {n}", "name_ar": f"الوزارة {n}",
         "kind": OrganisationKind.MINISTRY, "sector": "administration",
         "contact_emails": [f"ssi{n:04d}@ministere{n:04d}.gov.ma"], "created_at": now,
         "updated_at": now}
        for n in range(count)
    ]  # fmt: skip
    with transaction(factory, write=True) as session:
        session.execute(insert(Organisation), rows)
        dlist = DistributionList(slug="administrations", name="Toutes les administrations",
                                 kind=ListKind.ALL, digest=DigestFrequency.NONE, language="fr",
                                 created_at=now, updated_at=now)  # fmt: skip
        session.add(dlist)
        session.flush()
        return dlist.id


def staff(factory: SessionFactory) -> tuple[Actor, Actor]:
    """The analyst who writes the advisory and the lead who approves and publishes it."""
    now = SystemClock().now()
    with transaction(factory, write=True) as session:
        cert = Organisation(slug="cert", name="maCERT", kind=OrganisationKind.CERT,
                            contact_emails=[], created_at=now, updated_at=now)  # fmt: skip
        session.add(cert)
        session.flush()
        people = [
            User(email=email, name=name, role=role, organisation_id=cert.id, locale="fr",
                 session_nonce=os.urandom(16).hex(), created_at=now, updated_at=now)
            for email, name, role in (("analyste@cert.gov.ma", "Analyste", Role.ANALYST),
                                      ("chef@cert.gov.ma", "Chef de quart", Role.LEAD))
        ]  # fmt: skip
        session.add_all(people)
        session.flush()
        return Actor.for_user(people[0]), Actor.for_user(people[1])


def publish(factory: SessionFactory, analyst: Actor, lead: Actor) -> list[str]:
    """Write, approve and publish a TLP:GREEN advisory to the list (see the module)."""
    clock = SystemClock()
    draft = DraftIn.model_validate({
        "kind": "advisory", "tlp": "TLP:GREEN", "risk": "critical", "impact": "critical",
        "affected": [{"vendor": "Fortinet", "product": "FortiOS", "versions": "7.0 < 7.0.17"}],
        "cves": ["CVE-2026-24858"], "links": ["https://fortiguard.fortinet.com/psirt/"],
        "lists": ["administrations"],
        "texts": {
            "fr": {"title": "Vulnérabilité critique dans Fortinet FortiOS (SSL-VPN) exploitée",
                   "summary": "Une vulnérabilité permet l'exécution de code à distance.",
                   "solution": "Appliquer sans délai les correctifs de l'éditeur.",
                   "risks": "Exécution de code arbitraire à distance"},
            "ar": {"title": "ثغرة حرجة في Fortinet FortiOS"},
        },
    })  # fmt: skip
    with transaction(factory, write=True) as session:
        bulletin = authoring.create_draft(session, analyst, draft, clock=clock)
        authoring.submit(session, analyst, bulletin, clock=clock)
        authoring.approve(session, lead, bulletin, clock=clock)
    with transaction(factory, write=True) as session:
        bulletin = authoring.get_bulletin(session, lead, bulletin.id)
        sent = publish_and_send(session, lead, bulletin, clock=clock, settings=SETTINGS)
        assert sent.queued > 0
        query = select(OutboxMessage.message_id).where(
            OutboxMessage.related_type == "bulletin",
            OutboxMessage.related_id == bulletin.reference,
        )
        return list(session.scalars(query))


class Server:
    """aiosmtpd (the test suite's controller) in a process of its own, as an SMTP relay is in
    production: it does not share the sender's interpreter. Its handler (:class:`Relay`) is
    kept across restarts, on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self._pipe, child = multiprocessing.Pipe()
        self._count = multiprocessing.Value("i", 0)
        self._process = multiprocessing.Process(
            target=_serve, args=(child, self.port, self._count), daemon=True
        )
        self._process.start()
        self._ask("start")

    def _ask(self, command: str) -> Any:
        self._pipe.send(command)
        return self._pipe.recv()

    def start(self) -> None:
        self._ask("start")

    def stop(self) -> None:
        self._ask("stop")

    def received(self) -> int:
        return int(self._count.value)

    def results(self) -> tuple[Counter[str], int]:
        """Messages received per Message-ID, and the number of SMTP connections they came on."""
        per_id, connections = self._ask("results")
        return Counter(per_id), connections

    def close(self) -> None:
        self._ask("quit")
        self._process.join(timeout=10)


class Relay:
    """What a relay does with a message: reads its envelope and Message-ID (no MIME parsing,
    unlike the test suite's recording handler), then answers 250."""

    def __init__(self, count: Synchronized[int]) -> None:
        self.count = count
        self.per_id: Counter[str] = Counter()
        self.peers: set[tuple[str, int]] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        found = MESSAGE_ID.search(envelope.content)
        self.per_id[found[1].decode() if found else "?"] += 1
        self.peers.add(session.peer)
        with self.count.get_lock():
            self.count.value += 1
        return "250 Message accepted for delivery"


MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


def _serve(pipe: Connection, port: int, count: Synchronized[int]) -> None:
    handler = Relay(count)
    controller: Controller | None = None
    while True:
        command = pipe.recv()
        if command == "start":
            controller = Controller(handler, hostname="127.0.0.1", port=port)
            controller.start()
        elif command == "stop" and controller is not None:
            controller.stop()
            controller = None
        elif command == "results":
            pipe.send((dict(handler.per_id), len(handler.peers)))
            continue
        elif command == "quit":
            if controller is not None:
                controller.stop()
            pipe.send(None)
            return
        pipe.send(None)


def restart_after(server: Server, messages: int, down: float, done: threading.Event) -> None:
    """Stop the server once it holds ``messages`` messages, start it again ``down`` s later."""
    while server.received() < messages and not done.is_set():
        time.sleep(0.001)
    server.stop()
    time.sleep(down)
    server.start()


def run(url: str, scenario: str, args: argparse.Namespace) -> Result:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        create_recipients(factory, args.count)
        analyst, lead = staff(factory)
        analyse(engine)
        server = Server()
        done = threading.Event()
        watcher = None
        if scenario == "restart":
            watcher = threading.Thread(
                target=restart_after, args=(server, args.stop_after, args.down, done)
            )
            watcher.start()
        mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=server.port, timeout=5))
        backoff = dt.timedelta(seconds=args.backoff)
        started, cpu = time.perf_counter(), time.process_time()
        ids = publish(factory, analyst, lead)
        published = time.perf_counter() - started
        drains = 0
        deadline = started + args.give_up
        while server.received() < len(ids) and time.perf_counter() < deadline:
            counts = drain_outbox(factory, mailer, clock=SystemClock(), mail_from=MAIL_FROM,
                                  backoff=lambda _n: backoff,
                                  time_slice=SCHEDULER_TIME_SLICE)  # fmt: skip
            drains += 1
            if not any(counts.values()):
                time.sleep(0.05)  # nothing due yet: the failed ones wait for their back-off
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        done.set()
        if watcher is not None:
            watcher.join()
        per_id, connections = server.results()
        server.close()
        with transaction(factory) as session:
            unsent = session.scalar(
                select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
            )
            retried = session.scalar(select(func.count()).where(OutboxMessage.attempts > 1))
        return Result(
            backend=engine.dialect.name, scenario=scenario, seconds=seconds,
            publish_seconds=published, received=len(per_id),
            duplicates=sum(n - 1 for n in per_id.values() if n > 1),
            lost=len(set(ids) - set(per_id)), unsent=unsent or 0,
            connections=connections, drains=drains, cpu=cpu, retried=retried or 0,
        )  # fmt: skip
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (the default: a SQLite file)")
    parser.add_argument("--count", type=int, default=1000, help="recipients (1000)")
    parser.add_argument("--stop-after", type=int, default=300, help="restart: messages first")
    parser.add_argument("--down", type=float, default=0.5, help="restart: seconds down (0.5)")
    parser.add_argument("--backoff", type=float, default=1.0, help="retry after (1 s)")
    parser.add_argument("--target", type=float, default=10.0, help="seconds (10)")
    parser.add_argument("--give-up", type=float, default=120.0, help="seconds (120)")
    add_option(parser)
    args = parser.parse_args()
    enable(args.json)
    results: list[Result] = []
    for scenario in ("steady", "restart"):
        with bench_database(args.database_url) as url:
            results.append(run(url, scenario, args))
    print(f"{args.count} recipients, target ≤ {args.target:g} s from publication to last delivery"
          f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")  # fmt: skip
    header = (f"{'backend':10} {'scenario':8} {'total s':>8} {'publish s':>9} "
              f"{'received':>8} {'dup':>4} {'lost':>4} {'unsent':>6} {'conns':>5} "
              f"{'drains':>6} {'retried':>7} {'cpu s':>6}  verdict")  # fmt: skip
    print(header)
    missed = False
    for r in results:
        ok = r.seconds <= args.target and not (r.lost or r.duplicates or r.unsent)
        missed |= not ok
        print(f"{r.backend:10} {r.scenario:8} {r.seconds:8.2f} {r.publish_seconds:9.2f} "
              f"{r.received:8} {r.duplicates:4} {r.lost:4} {r.unsent:6} {r.connections:5} "
              f"{r.drains:6} {r.retried:7} {r.cpu:6.2f}  {'ok' if ok else 'MISSED'}")  # fmt: skip
        emit(
            f"fan-out: a bulletin to {args.count:,} recipients, SMTP {r.scenario}",
            r.backend,
            r.seconds,
            "s",
            f"≤ {args.target:g} s, none lost or doubled",
            ok,
            note=f"no baseline; publication {r.publish_seconds:.2f} s, lost {r.lost}, "
            f"doubled {r.duplicates}, unsent {r.unsent}",
        )
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
