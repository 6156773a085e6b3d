"""Exporting a playbook version (Flask-free): the CACAO document exactly as it was imported —
the same bytes, so that a signature or a digest another CERT computed still holds, and what
another tool wrote comes back unchanged. Import validated it, so an export validates too."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound
from playbooks.models import Playbook


def export_playbook(session: Session, playbook: Playbook) -> str:
    """The stored document of ``playbook`` (one version), verbatim (``session``: the unit of
    work the adapter opened; the row is already loaded)."""
    return playbook.document


def find_version(session: Session, reference: str) -> Playbook:
    """A version by row id (``"12"``) or the current version of a CACAO id
    (``"playbook--…"``); ``NotFound`` otherwise."""
    reference = reference.strip()
    if reference.isdigit() and len(reference) < 19:
        found = session.get(Playbook, int(reference))
    else:
        found = session.scalar(
            select(Playbook).where(Playbook.cacao_id == reference, Playbook.current.is_(True))
        )
    if found is None:
        raise NotFound(f"no playbook {reference!r} (give a row id or a CACAO id)")
    return found
