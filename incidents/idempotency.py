"""``Idempotency-Key`` for incident submissions (Flask-free; the API adapter calls it).

The same user sending the same key with the same body gets the incident created the first time;
the same key with another body is a :class:`~cert.errors.Conflict`. "Same body" means the same
SHA-256 of the canonical JSON of the *validated* submission (defaults filled in, labels
normalised), so ``"tlp": "amber"`` and ``"tlp": "TLP:AMBER"`` are the same request.

Races: the incident and its key row are written inside a SAVEPOINT. When two requests with the
same key run at once, the second one's key INSERT violates ``uq_idempotency_keys_user_id``; its
savepoint (incident, reference number, acknowledgement) is rolled back and the winner's row is
answered instead — no duplicate incident, no gap in the references.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cert.auth.authz import Actor
from cert.clock import Clock
from cert.db import is_postgres
from cert.errors import Conflict, NotFound
from incidents.access import can_see
from incidents.intake_rows import forget
from incidents.models import IdempotencyKey, Incident
from incidents.schemas import IncidentSubmission
from incidents.services import IntakeSettings, submit_incident

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Submitted:
    incident: Incident
    created: bool  # False: an earlier request with the same key and body created it


def request_hash(data: IncidentSubmission) -> str:
    """SHA-256 of the canonical JSON of a validated submission."""
    canonical = json.dumps(
        data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_key(key: str) -> str | None:
    """What is wrong with an ``Idempotency-Key`` value, or ``None``."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return f"from 1 to {MAX_KEY_LENGTH} characters"
    if not key.isascii() or not key.isprintable():
        return "printable ASCII characters only"
    return None


def begin_write(session: Session) -> None:
    """Start the transaction as a writer (SQLite-specific: ``BEGIN IMMEDIATE``).

    A deferred SQLite transaction that reads, then writes fails with "database is locked" when
    another writer committed in between; taking the write lock first makes concurrent
    submissions wait their turn instead. PostgreSQL needs nothing (row locks).
    """
    if not session.in_transaction() and not is_postgres(session):
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def submit_once(
    session: Session,
    actor: Actor,
    data: IncidentSubmission,
    *,
    key: str | None,
    clock: Clock,
    settings: IntakeSettings,
) -> Submitted:
    """``submit_incident`` at most once per (user, key); flushes, never commits."""
    if key is None or actor.user_id is None:
        return Submitted(
            submit_incident(session, actor, data, clock=clock, settings=settings), True
        )
    digest = request_hash(data)
    earlier = replay(session, actor, key, digest)
    if earlier is not None:
        return Submitted(earlier, False)
    written: list[Incident] = []
    try:
        with session.begin_nested():
            incident = submit_incident(session, actor, data, clock=clock, settings=settings)
            written.append(incident)
            session.add(
                IdempotencyKey(
                    user_id=actor.user_id,
                    key=key,
                    request_hash=digest,
                    incident_id=incident.id,
                    created_at=clock.now(),
                )
            )
            session.flush()
    except IntegrityError:
        for row in written:
            forget(session, row)  # its rows went with the savepoint
        earlier = replay(session, actor, key, digest)  # a concurrent request won the key
        if earlier is None:
            raise
        return Submitted(earlier, False)
    return Submitted(incident, True)


def replay(session: Session, actor: Actor, key: str, digest: str) -> Incident | None:
    """The incident an earlier request with this key created; ``Conflict`` if its body differed."""
    row = session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == actor.user_id, IdempotencyKey.key == key
        )
    )
    if row is None:
        return None
    if row.request_hash != digest:
        raise Conflict(
            "this Idempotency-Key was already used with a different request body",
            fields={"Idempotency-Key": "already used with a different body"},
        )
    incident = session.get(Incident, row.incident_id)
    if incident is None or not can_see(actor, incident):
        raise NotFound("the incident of this Idempotency-Key no longer exists")
    return incident
