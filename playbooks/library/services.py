"""Importing CACAO playbooks with their version history (Flask-free use cases).

A document is parsed, validated (:func:`playbooks.rules.validate.validate`: every problem with
its JSON path; nothing stored when there is one) and stored verbatim as one version of its
playbook (``id``), told apart by ``modified``:

* the same version again (same ``modified``, same bytes): nothing changes (``created`` False);
* the same ``modified`` with other content: refused (``Conflict``) — a changed playbook has a
  newer ``modified``;
* a newer ``modified``: the new version becomes the current one (triggers and schedules, kept
  by CACAO id, run it from now on); an older one is kept in the history only;
* ``revoked: true``: stored; the playbook no longer starts (a revoked current version).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit, inputs
from core.clock import Clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.identity.authz import Actor
from playbooks.audit import PlaybookAction
from playbooks.models import Phase, Playbook
from playbooks.rules.cacao import phase_of
from playbooks.rules.validate import Problem, timestamp, validate

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024


class InvalidPlaybook(ValidationFailed):
    """A document refused at import; ``problems`` lists every one with its JSON path
    (``fields`` maps each path to its message, for the API's error envelope)."""

    def __init__(self, problems: list[Problem]) -> None:
        fields: dict[str, str] = {}
        for problem in problems:
            fields[problem.path] = (
                f"{fields[problem.path]}; {problem.message}"
                if problem.path in fields
                else problem.message
            )
        super().__init__(f"invalid CACAO playbook: {len(problems)} problem(s)", fields=fields)
        self.problems = problems


@dataclass(frozen=True)
class Imported:
    playbook: Playbook
    created: bool  # False: this very version was already stored


def parse_document(text: str | bytes) -> dict[str, Any]:
    """The JSON object of ``text``; ``InvalidPlaybook`` (path ``$``) when it is not one."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise InvalidPlaybook([Problem("$", f"larger than {MAX_DOCUMENT_BYTES} bytes")])
    if b"\x00" in raw:
        raise InvalidPlaybook([Problem("$", "contains a NUL byte")])
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidPlaybook([Problem("$", "not UTF-8 text")]) from None
    except json.JSONDecodeError as exc:
        message = f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise InvalidPlaybook([Problem("$", message)]) from None
    except RecursionError:
        raise InvalidPlaybook([Problem("$", "nested too deeply to be a playbook")]) from None
    if not isinstance(document, dict):
        raise InvalidPlaybook([Problem("$", "a playbook is a JSON object")])
    if b"\\u0000" in raw:  # a NUL character can only come as an escape
        try:
            where = inputs.nul_path(document, "$")
        except RecursionError:
            where = "$"
        if where is not None:
            raise InvalidPlaybook([Problem(where, inputs.NUL_MESSAGE)])
    return document


def import_playbook(
    session: Session,
    actor: Actor,
    text: str | bytes,
    *,
    clock: Clock,
    builtin: str | None = None,
) -> Imported:
    document = parse_document(text)
    problems = validate(document)
    if problems:
        raise InvalidPlaybook(problems)
    stored = text if isinstance(text, str) else text.decode("utf-8")
    digest = hashlib.sha256(stored.encode("utf-8")).hexdigest()
    cacao_id, modified = document["id"], _when(document, "modified")
    same = session.scalar(
        select(Playbook).where(Playbook.cacao_id == cacao_id, Playbook.modified == modified)
    )
    if same is not None:
        if same.digest == digest or _canonical(same.document) == _canonical(stored):
            return Imported(same, created=False)
        raise Conflict(
            "version already imported with other content",
            fields={"$.modified": "a changed playbook needs a newer 'modified'"},
        )
    return Imported(_add_version(session, actor, document, stored, digest, clock, builtin), True)


def _add_version(
    session: Session,
    actor: Actor,
    document: Mapping[str, Any],
    stored: str,
    digest: str,
    clock: Clock,
    builtin: str | None,
) -> Playbook:
    cacao_id = document["id"]
    latest = session.scalar(
        select(Playbook).where(Playbook.cacao_id == cacao_id).order_by(Playbook.modified.desc())
    )
    modified, created = _when(document, "modified"), _when(document, "created")
    newest = latest is None or modified > latest.modified
    types = [str(t) for t in document.get("playbook_types") or []]
    if newest:
        session.execute(update(Playbook).where(Playbook.cacao_id == cacao_id).values(current=False))
    playbook = Playbook(
        cacao_id=cacao_id,
        modified=modified,
        created=created,
        name=str(document["name"])[:300],
        description=document.get("description"),
        playbook_types=types,
        phase=Phase(phase_of(types)),
        document=stored,
        digest=digest,
        revoked=bool(document.get("revoked", False)),
        current=newest,
        enabled=latest.enabled if latest is not None else True,
        builtin=builtin or (latest.builtin if latest is not None else None),
        imported_at=clock.now(),
        imported_by_id=actor.user_id,
    )
    session.add(playbook)
    session.flush()
    audit.record(
        session,
        actor,
        PlaybookAction.IMPORT,
        "playbook",
        cacao_id,
        clock=clock,
        after={"version": document["modified"], "name": playbook.name, "current": newest},
    )
    return playbook


def _when(document: Mapping[str, Any], key: str) -> dt.datetime:
    value = timestamp(document.get(key))
    if value is None:  # validate() reports it first
        raise InvalidPlaybook([Problem(f"$.{key}", "must be an RFC 3339 timestamp")])
    return value


def _canonical(text: str) -> str:
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def get_playbook(session: Session, playbook_id: int) -> Playbook:
    playbook = session.get(Playbook, playbook_id)
    if playbook is None:
        raise NotFound(f"no playbook {playbook_id}")
    return playbook


def current_version(session: Session, cacao_id: str) -> Playbook | None:
    """The version of ``cacao_id`` that runs (``None``: unknown)."""
    return session.scalar(
        select(Playbook).where(Playbook.cacao_id == cacao_id, Playbook.current.is_(True))
    )


def document_of(playbook: Playbook) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(playbook.document)
    return parsed
