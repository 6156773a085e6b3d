"""The playbooks slice's part of ``cert demo`` (:class:`core.slices.Demo`, declared in
:data:`playbooks.slice.SLICE`): the built-in library in French with its default triggers and
schedules (:func:`playbooks.library.builtin_load.load_builtin`; idempotent). Flask-free; the
command owns the transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.clock import Clock
from core.config import Config
from core.identity.authz import Actor
from playbooks.library.builtin_load import load_builtin


def seed(session: Session, actor: Actor, clock: Clock, config: Config) -> str:
    loaded = load_builtin(session, actor, clock=clock, language="fr", timezone=config.timezone)
    imported = sum(1 for item in loaded if item.outcome == "imported")
    triggers = sum(item.triggers for item in loaded)
    schedules = sum(item.schedules for item in loaded)
    return (
        f"built-in playbooks: {len(loaded)} in the library, {imported} imported, "
        f"{triggers} trigger(s) and {schedules} schedule(s) created"
    )
