"""Read models of the playbook library (Flask-free): the list query with its filters, and
:class:`PlaybookOut`, what the command line (``--json``) and the API show of a version."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, select

from playbooks.models import Phase, Playbook


class PlaybookOut(BaseModel):
    """One version of a CACAO playbook."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="The version's row id (`cert playbooks export ID`)")
    cacao_id: str = Field(description="The CACAO `id`, shared by every version")
    name: str
    description: str | None
    version: str = Field(description="The document's `modified` (UTC, RFC 3339)")
    modified: dt.datetime
    created: dt.datetime
    playbook_types: list[str]
    phase: Phase = Field(description="`before` or `after` incidents (from playbook_types)")
    current: bool = Field(description="The version that runs")
    enabled: bool
    revoked: bool
    builtin: str | None = Field(description="Its key in the built-in library, if any")
    imported_at: dt.datetime


def playbook_out(playbook: Playbook) -> PlaybookOut:
    fields = {
        name: getattr(playbook, name) for name in PlaybookOut.model_fields if name != "version"
    }
    return PlaybookOut(**fields, version=stamp(playbook.modified))


def stamp(when: dt.datetime) -> str:
    """``2026-11-01T08:00:00.000Z`` (microseconds when the document gave them)."""
    when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    spec = "milliseconds" if when.microsecond % 1000 == 0 else "microseconds"
    return when.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def playbook_query(
    *, phase: Phase | None = None, enabled: bool | None = None, all_versions: bool = False
) -> Select[Playbook]:
    """Current versions (every version with ``all_versions``) by name, newest version first."""
    query = select(Playbook)
    if not all_versions:
        query = query.where(Playbook.current.is_(True))
    if phase is not None:
        query = query.where(Playbook.phase == phase)
    if enabled is not None:
        query = query.where(Playbook.enabled.is_(enabled))
    return query.order_by(Playbook.name, Playbook.cacao_id, Playbook.modified.desc(), Playbook.id)
