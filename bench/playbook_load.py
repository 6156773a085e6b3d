"""The load of ``bench/playbooks.py``: a ransomware-like CACAO playbook (start → manual "isolate"
→ manual "identify the strain" → manual "restore" → end) imported through the real service with
its trigger, and the reports submitted through the real intake service, one transaction each
(as the API does)."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

from sqlalchemy import select

from bench.intake_setup import analyse, create_reporter_tokens
from core.clock import SystemClock
from core.db import make_engine, make_session_factory
from core.identity.authz import Actor
from core.identity.models import User
from core.uow import transaction
from incidents.intake import service
from incidents.intake.schemas import IncidentSubmission
from incidents.settings import IntakeSettings
from playbooks.library.services import import_playbook
from playbooks.models import (
    PlaybookTrigger,
    TriggerEvent,
)

GROUP = "group--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51"


def ransomware_playbook() -> str:
    """start → three manual steps → end: the run waits at the first manual task."""
    steps = [sid("start"), sid("action"), sid("action"), sid("action"), sid("end")]
    tasks = [
        ("Isolate the encrypted hosts", "Cut the affected hosts off the network."),
        ("Identify the strain", "Ransom note, extension, sample hash."),
        ("Restore from backups", "Check the backups are clean before restoring."),
    ]
    workflow: dict[str, Any] = {steps[0]: {"type": "start", "on_completion": steps[1]}}
    for i, (name, detail) in enumerate(tasks, start=1):
        workflow[steps[i]] = {
            "type": "action",
            "name": name,
            "agent": GROUP,
            "commands": [{"type": "manual", "command": f"{name}: {detail}"}],
            "on_completion": steps[i + 1],
        }
    workflow[steps[-1]] = {"type": "end"}
    return json.dumps(
        {
            "type": "playbook",
            "spec_version": "cacao-2.0",
            "id": sid("playbook"),
            "name": "Ransomware (bench)",
            "description": "Contain, identify, restore.",
            "playbook_types": ["mitigation", "remediation"],
            "created_by": "identity--5abe695c-7bd5-4c31-8824-2528696cdbf1",
            "created": "2026-12-01T08:00:00.000Z",
            "modified": "2026-12-01T08:00:00.000Z",
            "workflow_start": steps[0],
            "workflow": workflow,
            "agent_definitions": {GROUP: {"type": "group", "name": "CERT analysts"}},
        }
    )


def sid(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


def body(run: str, index: int) -> dict[str, Any]:
    """A ransomware report (values differ from one report to the next)."""
    digest = hashlib.sha256(f"{run}-{index}".encode()).hexdigest()
    return {
        "title": f"Rançongiciel sur les serveurs de fichiers ({run}-{index})",
        "description": (
            f"Les fichiers du partage sont chiffrés (extension .lock{index}), note de rançon "
            f"LISEZ-MOI.txt ; trafic vers 91.{index % 200}.{index // 200 % 250}[.]7 et "
            f"hxxp://pay-{run}-{index}[.]onion-gate[.]com. Échantillon SHA-256 {digest}."
        ),
        "category": "malicious-code",
        "type": "infected-system",
        "impact": "critical",
        "urgency": "high",
        "tlp": "TLP:AMBER",
        "source_ref": f"EDR-{run}-{index}",
    }


def prepare(url: str) -> None:
    """The reporter's ministry, the playbook and its trigger."""
    create_reporter_tokens(url, 1)
    engine = make_engine(url)
    clock, admin = SystemClock(), Actor.system("bench")
    with transaction(make_session_factory(engine)) as session:
        book = import_playbook(session, admin, ransomware_playbook(), clock=clock).playbook
        session.add(
            PlaybookTrigger(
                cacao_id=book.cacao_id,
                event=TriggerEvent.CREATED,
                conditions={"categories": ["malicious-code"]},
                created_at=clock.now(),
            )
        )
    analyse(engine)
    engine.dispose()


def submit(url: str, run: str, count: int) -> tuple[float, float]:
    """``count`` reports, one transaction each; (perf_counter at the first, seconds taken)."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock, settings = SystemClock(), IntakeSettings()
    with factory() as session:
        user = session.scalars(select(User).where(User.email == "rssi@bench.gov.ma")).one()
        actor = Actor.for_user(user)
    bodies = [IncidentSubmission.model_validate(body(run, i)) for i in range(count)]
    started = time.perf_counter()
    for data in bodies:  # as the API: a write transaction (SQLite: BEGIN IMMEDIATE)
        with transaction(factory, write=True) as session:
            service.submit_incident(session, actor, data, clock=clock, settings=settings)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return started, elapsed
