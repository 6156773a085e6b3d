"""Fan-out of one bulletin to 1,000 recipients: from publication to the last delivery at a local
SMTP server (aiosmtpd, the controller and recording handler of the test suite).

On a throw-away migrated database (``bench/intake.py``'s: a SQLite file, or a PostgreSQL
schema), ``--count`` ministries with one registered contact each, created directly, and a
distribution list "all administrations". Then, per scenario:

1. **Publish** — one transaction resolves the list to its recipients
   (:func:`bulletins.audience.resolve`, TLP:GREEN gating) and queues one outbox message per
   recipient as a template and its context (:func:`core.mail.insert_template_mail`, rendered in
   the recipient's language when first claimed), as a publication does. After the merge of
   ``bulletins/distribution/sending.py`` (branch ``dist``) this step will call
   ``publish_and_send`` instead.
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

from bench.intake_setup import analyse, bench_database  # noqa: E402
from bulletins.audience import gate, resolve  # noqa: E402
from bulletins.models import DigestFrequency, DistributionList, ListKind  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.config import SmtpSettings  # noqa: E402
from core.db import SessionFactory, make_engine, make_session_factory  # noqa: E402
from core.identity.models import Organisation, OrganisationKind  # noqa: E402
from core.mail import insert_template_mail  # noqa: E402
from core.mail_sender import drain_outbox  # noqa: E402
from core.mailers import SmtpMailer  # noqa: E402
from core.markings import Tlp  # noqa: E402
from core.outbox import OutboxMessage, OutboxStatus  # noqa: E402
from core.uow import transaction  # noqa: E402
from tests.kit.smtp import free_port  # noqa: E402

MAIL_FROM = "maCERT <bulletins@cert.gov.ma>"
DOMAIN = "cert.gov.ma"
TEMPLATE = "bulletins:bulletins/email/digest"  # a bulletins e-mail template of the slice
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


def publish(factory: SessionFactory, list_id: int) -> list[str]:
    """Queue one message per recipient of the list, in one transaction (see the module).

    After the merge of branch ``dist``, this calls
    ``bulletins.distribution.sending.publish_and_send`` on a bulletin sent to the list."""
    clock = SystemClock()
    context = {
        "cert_name": "maCERT",
        "weekly": False,
        "date": "4 décembre 2026",
        "tlp": Tlp.GREEN.value,
        "list_name": "Toutes les administrations",
        "entries": [
            {"reference": "MACERT-AVI-2026-0042", "tlp": Tlp.GREEN.value, "risk": "critical",
             "title": "Vulnérabilité critique dans Fortinet FortiOS (SSL-VPN) activement exploitée",
             "url": "https://vigie.cert.gov.ma/bulletins/MACERT-AVI-2026-0042"},
        ],
        "unsubscribe_url": None,
    }  # fmt: skip
    with transaction(factory, write=True) as session:
        dlist = session.get(DistributionList, list_id)
        assert dlist is not None
        audience = gate(Tlp.GREEN, resolve(session, [dlist]), set())
        assert audience.allowed, audience.refused[:3]
        ids = [
            insert_template_mail(
                session,
                to=r.email,
                template=TEMPLATE,
                context=context,
                language=r.language,
                tlp=Tlp.GREEN.value,
                related=("bulletin", "MACERT-AVI-2026-0042"),
                clock=clock,
                mail_domain=DOMAIN,
            )  # fmt: skip
            for r in audience.recipients
        ]
        query = select(OutboxMessage.message_id).where(OutboxMessage.id.in_(ids))
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
        list_id = create_recipients(factory, args.count)
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
        ids = publish(factory, list_id)
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
        return Result(
            backend=engine.dialect.name, scenario=scenario, seconds=seconds,
            publish_seconds=published, received=len(per_id),
            duplicates=sum(n - 1 for n in per_id.values() if n > 1),
            lost=len(set(ids) - set(per_id)), unsent=unsent or 0,
            connections=connections, drains=drains, cpu=cpu,
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
    args = parser.parse_args()
    results: list[Result] = []
    for scenario in ("steady", "restart"):
        with bench_database(args.database_url) as url:
            results.append(run(url, scenario, args))
    print(f"{args.count} recipients, target ≤ {args.target:g} s from publication to last delivery"
          f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")  # fmt: skip
    header = (f"{'backend':10} {'scenario':8} {'total s':>8} {'publish s':>9} "
              f"{'received':>8} {'dup':>4} {'lost':>4} {'unsent':>6} {'conns':>5} "
              f"{'drains':>6} {'cpu s':>6}  verdict")  # fmt: skip
    print(header)
    missed = False
    for r in results:
        ok = r.seconds <= args.target and not (r.lost or r.duplicates or r.unsent)
        missed |= not ok
        print(f"{r.backend:10} {r.scenario:8} {r.seconds:8.2f} {r.publish_seconds:9.2f} "
              f"{r.received:8} {r.duplicates:4} {r.lost:4} {r.unsent:6} {r.connections:5} "
              f"{r.drains:6} {r.cpu:6.2f}  {'ok' if ok else 'MISSED'}")  # fmt: skip
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
