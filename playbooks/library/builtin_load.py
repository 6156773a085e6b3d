"""Loading the built-in library into the database (Flask-free use case; the adapters — ``cert
playbooks load-builtin`` and ``cert demo`` — own the transaction).

Each built-in playbook is imported through :func:`playbooks.library.services.import_playbook`
(``builtin=<key>``): loading twice changes nothing, a newer built-in version (a newer
``modified``) becomes the current one, and a version already loaded in another language is kept
as it is (a language is a rendering of the same version; the same ``modified`` with other text is
refused by import, so the loader says so instead). The default triggers and schedules of a
playbook are created once: not again when the playbook already has triggers (or schedules),
whoever created them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.errors import Conflict
from core.identity.authz import Actor
from core.identity.models import Organisation, OrganisationKind
from playbooks.audit import PlaybookAction
from playbooks.library import builtin
from playbooks.library.services import import_playbook
from playbooks.models import (
    Playbook,
    PlaybookSchedule,
    PlaybookTrigger,
    TriggerEvent,
)
from playbooks.rules.cron import next_fire
from playbooks.rules.validate import timestamp


@dataclass(frozen=True)
class Loaded:
    key: str
    cacao_id: str
    name: str
    version: str  # the document's ``modified``
    # "imported", "unchanged", "kept (loaded in <language>)", "kept (a newer version is
    # current)": the built-in version went to the history behind a CERT's own newer one
    outcome: str
    triggers: int  # triggers created now
    schedules: int  # schedules created now

    def line(self) -> str:
        added = f", {self.triggers} trigger(s)" if self.triggers else ""
        added += f", {self.schedules} schedule(s)" if self.schedules else ""
        return f"{self.key}: {self.outcome} {self.cacao_id} {self.version} {self.name}{added}"


def load_builtin(
    session: Session,
    actor: Actor,
    *,
    clock: Clock,
    language: str = builtin.DEFAULT_LANGUAGE,
    timezone: str | None = None,
) -> list[Loaded]:
    """Import every built-in playbook in ``language`` and create its default triggers and
    schedules (``timezone``: the schedules' zone instead of the library's, e.g. CERT_TIMEZONE)."""
    return [
        _load(session, actor, item, clock=clock, timezone=timezone)
        for item in builtin.documents(language)
    ]


def _load(
    session: Session, actor: Actor, item: builtin.BuiltinPlaybook, *, clock: Clock,
    timezone: str | None,
) -> Loaded:  # fmt: skip
    version = str(item.document["modified"])
    try:
        imported = import_playbook(session, actor, item.text(), clock=clock, builtin=item.key)
        outcome = "unchanged" if not imported.created else (
            "imported" if imported.playbook.current else "kept (a newer version is current)"
        )  # fmt: skip
    except Conflict:
        outcome = f"kept (loaded in {_language_of(session, item)})"
    triggers = _add_triggers(session, actor, item, clock)
    schedules = _add_schedules(session, actor, item, clock, timezone)
    name = str(item.document["name"])
    return Loaded(item.key, item.cacao_id, name, version, outcome, triggers, schedules)


def _language_of(session: Session, item: builtin.BuiltinPlaybook) -> str:
    """The language the stored version of ``item`` was rendered in ("another language" when
    none matches: edited by hand)."""
    stored = session.scalar(
        select(Playbook.document).where(
            Playbook.cacao_id == item.cacao_id,
            Playbook.modified == timestamp(item.document["modified"]),
        )
    )
    for language in builtin.LANGUAGES:
        if stored == builtin.load(item.key, language).text():
            return language
    return "another language"


def _add_triggers(
    session: Session, actor: Actor, item: builtin.BuiltinPlaybook, clock: Clock
) -> int:
    if not item.triggers or session.scalar(
        select(PlaybookTrigger.id).where(PlaybookTrigger.cacao_id == item.cacao_id).limit(1)
    ) is not None:  # fmt: skip
        return 0
    for default in item.triggers:
        trigger = PlaybookTrigger(
            cacao_id=item.cacao_id,
            event=TriggerEvent(default.event),
            conditions=dict(default.conditions),
            enabled=True,
            created_at=clock.now(),
            created_by_id=actor.user_id,
        )
        session.add(trigger)
        session.flush()
        audit.record(session, actor, PlaybookAction.TRIGGER_CREATE, "playbook_trigger",
                     trigger.id, clock=clock,
                     after={"cacao_id": item.cacao_id, "event": default.event,
                            "conditions": default.conditions, "builtin": item.key})  # fmt: skip
    return len(item.triggers)


def _add_schedules(
    session: Session, actor: Actor, item: builtin.BuiltinPlaybook, clock: Clock,
    timezone: str | None,
) -> int:  # fmt: skip
    if not item.schedules or session.scalar(
        select(PlaybookSchedule.id).where(PlaybookSchedule.cacao_id == item.cacao_id).limit(1)
    ) is not None:  # fmt: skip
        return 0
    now = clock.now()
    cert = session.scalar(
        select(Organisation.id).where(Organisation.kind == OrganisationKind.CERT)
        .order_by(Organisation.id).limit(1)
    )  # fmt: skip
    for default in item.schedules:
        zone = timezone or default.timezone
        schedule = PlaybookSchedule(
            cacao_id=item.cacao_id,
            cron=default.cron,
            timezone=zone,
            organisation_ids=[cert] if default.scope == "cert" and cert is not None else None,
            enabled=True,
            next_fire_at=next_fire(default.cron, zone, now),
            created_at=now,
            created_by_id=actor.user_id,
        )
        session.add(schedule)
        session.flush()
        audit.record(session, actor, PlaybookAction.SCHEDULE_CREATE, "playbook_schedule",
                     schedule.id, clock=clock,
                     after={"cacao_id": item.cacao_id, "cron": default.cron, "timezone": zone,
                            "builtin": item.key})  # fmt: skip
    return len(item.schedules)
