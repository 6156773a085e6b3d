"""Files sent with the reporter's answer (Flask-free use case; issue 17, reporters).

The answer form of ``/track`` sends the files with the message; ``POST /api/v1/incidents/<ref>/
replies`` names, in ``attachments``, files the same reporter uploaded before through
``POST …/attachments`` and has not sent with an answer yet. Either way each file follows the
rules of the report form (:func:`incidents.intake.attachments.add_attachment`: the size limit
``CERT_MAX_UPLOAD_MB``, the type sniffed from the bytes, stored under its SHA-256 outside the web
root, mined for observables, always a download) and is linked to the answer
(``Attachment.event_id``); the answer's event lists them (``data["attachments"]``: id, name,
size) so that the analysts' timeline, ``/track`` and the PDF show them under the answer.

Nothing is half-written: the caller rolls back on any error and then calls
:func:`incidents.intake.attachments.discard_unreferenced` with :attr:`AnswerFiles.stored`, which
removes the files this answer stored and no row refers to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import ValidationFailed
from core.identity.authz import Actor
from incidents.intake.attachments import add_attachment
from incidents.models import Attachment, Incident, IncidentEvent
from incidents.workspace.conversation import check_may_answer, reporter_answer

MAX_FILES = 10  # per answer


class TooManyFiles(ValidationFailed):
    """More than :data:`MAX_FILES` files with one answer."""


@dataclass(frozen=True)
class Upload:
    """A file as the adapter received it (its name as the client gave it, its bytes)."""

    filename: str
    stream: BinaryIO


@dataclass
class AnswerFiles:
    """What an answer carries besides its message; ``stored`` collects the SHA-256 of every file
    stored on disk on the way (for the clean-up after a failure)."""

    uploads: Sequence[Upload] = ()
    attachment_ids: Sequence[int] = ()
    stored: list[str] = field(default_factory=list)


def answer_with_files(
    session: Session,
    actor: Actor,
    incident: Incident,
    body: str,
    files: AnswerFiles,
    *,
    clock: Clock,
    upload_dir: Path,
    max_bytes: int,
) -> IncidentEvent:
    """The reporter's answer (:func:`incidents.workspace.conversation.reporter_answer`) with its
    files. Errors name the field ``file`` (``TooLarge``; empty file) or ``attachments`` (an id
    that is not a file of this reporter waiting for an answer); the caller rolls back."""
    check_may_answer(actor, incident)
    if len(files.uploads) + len(files.attachment_ids) > MAX_FILES:
        raise TooManyFiles(
            "too many files", fields={"file": f"at most {MAX_FILES} files per answer"}
        )
    earlier = _waiting(session, actor, incident, files.attachment_ids)
    event = reporter_answer(session, actor, incident, body, clock=clock)
    sent: list[Attachment] = []
    for upload in files.uploads:
        attachment = add_attachment(
            session, actor, incident, filename=upload.filename, stream=upload.stream,
            clock=clock, upload_dir=upload_dir, max_bytes=max_bytes,
        )  # fmt: skip
        files.stored.append(attachment.sha256)
        sent.append(attachment)
    sent.extend(earlier)
    link_to_answer(session, event, sent)
    return event


def link_to_answer(session: Session, event: IncidentEvent, sent: Sequence[Attachment]) -> None:
    """Link the files ``sent`` to the answer ``event`` and list them on it (id, name, size), so
    that the timeline, ``/track`` and the PDF show them under it."""
    if not sent:
        return
    for attachment in sent:
        attachment.event_id = event.id
    listed = [{"id": a.id, "filename": a.filename, "size": a.size} for a in sent]
    event.data = {**event.data, "attachments": [*event.data.get("attachments", []), *listed]}
    session.flush()


def _waiting(
    session: Session, actor: Actor, incident: Incident, ids: Sequence[int]
) -> list[Attachment]:
    """The files ``ids`` names: each must be one this reporter uploaded to ``incident`` and has
    not sent with an answer yet (the same error for any other id, so that nothing is revealed)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = list(
        session.scalars(
            select(Attachment)
            .where(
                Attachment.id.in_(wanted),
                Attachment.incident_id == incident.id,
                Attachment.uploaded_by_id == actor.user_id,
                Attachment.event_id.is_(None),
            )
            .order_by(Attachment.id)
        )
    )
    missing = sorted(set(wanted) - {a.id for a in found})
    if missing:
        raise ValidationFailed(
            "unknown attachment",
            fields={
                "attachments": "not a file you uploaded to this incident and have not sent yet: "
                + ", ".join(str(i) for i in missing)
            },
        )
    return found


__all__ = [
    "MAX_FILES",
    "AnswerFiles",
    "TooManyFiles",
    "Upload",
    "answer_with_files",
    "link_to_answer",
]
