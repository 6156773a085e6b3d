"""``Idempotency-Key`` for incident submissions (Flask-free; the API adapter calls it).

The same user sending the same key with the same body gets the incident created the first time;
the same key with another body is a :class:`~core.errors.Conflict`. "Same body" means the same
SHA-256 of the canonical JSON of the *validated* submission (defaults filled in, labels
normalised), so ``"tlp": "amber"`` and ``"tlp": "TLP:AMBER"`` are the same request.

A key expires ``settings.idempotency_ttl`` after it was created (``CERT_IDEMPOTENCY_TTL_HOURS``):
from then on it is treated as absent and its row is replaced, even before the scheduler's
``incidents.purge_idempotency_keys`` job deletes it.

Races: requests with the same (user, key) take turns before the key is even looked up — on
PostgreSQL a transaction-level advisory lock on the pair, on SQLite the write lock that
:func:`begin_write` takes — so a retry racing its first attempt waits for it, then replays its
incident (200). Without that turn a retry carrying a ``source_ref`` would miss the key, wait
for the ``source_ref`` lock instead and be refused as "already reported" (409).
As a last guard the incident and its key row are written inside a SAVEPOINT: should the key
INSERT still violate ``uq_idempotency_keys_user_id``, the savepoint (incident, reference number,
acknowledgement) is rolled back and the winner's row is answered instead — no duplicate
incident, no gap in the references.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import Clock
from core.db import is_postgres
from core.errors import Conflict, NotFound
from core.identity.authz import Actor
from incidents.access import can_see
from incidents.intake.rows import forget
from incidents.intake.schemas import IncidentSubmission
from incidents.intake.service import submit_incident
from incidents.models import IdempotencyKey, Incident
from incidents.settings import IntakeSettings

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
    _serialise_key(session, actor.user_id, key)
    not_before = clock.now() - settings.idempotency_ttl
    earlier = replay(session, actor, key, digest, not_before=not_before)
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


_KEY_LOCK = select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("key"), 0)))


def _serialise_key(session: Session, user_id: int, key: str) -> None:
    """PostgreSQL-specific: requests of one user with the same key take turns until commit (a
    transaction-level advisory lock, taken before the ``source_ref`` one, always in that order).
    The look-up that follows then sees the key of a twin that committed meanwhile."""
    if is_postgres(session):
        session.execute(_KEY_LOCK, {"key": f"idempotency:{user_id}:{key}"})


def replay(
    session: Session,
    actor: Actor,
    key: str,
    digest: str,
    *,
    not_before: dt.datetime | None = None,
) -> Incident | None:
    """The incident an earlier request with this key created; ``Conflict`` if its body differed.

    A key created before ``not_before`` has expired: it is deleted at once (so that this
    request's key row can take its place) and ``None`` is returned, as for an unknown key.
    """
    row = session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == actor.user_id, IdempotencyKey.key == key
        )
    )
    if row is None:
        return None
    if not_before is not None and row.created_at < not_before:
        # Core: a concurrent request that deleted it first (0 rows here) is no error
        session.expunge(row)
        keys = IdempotencyKey.metadata.tables["idempotency_keys"]
        session.connection().execute(delete(keys).where(keys.c.id == row.id))
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


def purge_expired_keys(session: Session, *, older_than: dt.datetime) -> int:
    """Delete the keys created before ``older_than``; how many went. One ``DELETE`` (Core, no
    rows loaded) in the caller's transaction; never commits.

    Once its key is gone, a retry with the same key is a new request: it creates a new incident,
    whatever its body.
    """
    keys = IdempotencyKey.metadata.tables["idempotency_keys"]
    result = session.connection().execute(delete(keys).where(keys.c.created_at < older_than))
    return result.rowcount
