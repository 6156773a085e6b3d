"""What a run's steps see of Vigie (Flask-free): the context variables filled from the run's
incident and organisation (:data:`playbooks.rules.cacao.CONTEXT_VARIABLES`), the playbook a
``playbook-action`` names, and the time helpers of the engine's state."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.identity.models import Organisation
from incidents.models import Incident
from playbooks.models import Playbook, PlaybookRun
from playbooks.rules.cacao import CONTEXT_VARIABLES
from playbooks.rules.validate import timestamp
from playbooks.settings import PlaybookSettings

MAX_MS = 366 * 24 * 3600 * 1000  # a delay or timeout longer than a year is cut to a year


def context_variables(
    run: PlaybookRun,
    incident: Incident | None,
    organisation: Organisation | None,
    *,
    now: dt.datetime,
    settings: PlaybookSettings,
) -> dict[str, str]:
    """The context variables' values (text; empty when the run has no incident or no
    organisation)."""
    values = dict.fromkeys(CONTEXT_VARIABLES, "")
    try:
        zone = ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    values["__run_id__"] = str(run.id)
    values["__today__"] = now.astimezone(zone).date().isoformat()
    if incident is not None:
        values["__incident_reference__"] = incident.reference
        values["__incident_category__"] = incident.category
        values["__incident_type__"] = incident.type or ""
        values["__incident_priority__"] = str(incident.priority)
        values["__incident_tlp__"] = str(incident.tlp)
        values["__incident_status__"] = str(incident.status)
        base = settings.base_url.rstrip("/")
        values["__incident_url__"] = f"{base}/incidents/{incident.reference}" if base else ""
    if organisation is not None:
        values["__organisation_id__"] = str(organisation.id)
        values["__organisation_name__"] = organisation.name
        values["__organisation_sector__"] = organisation.sector or ""
    return values


def find_playbook(session: Session, cacao_id: object, version: object) -> Playbook | None:
    """The version ``version`` (a ``modified`` timestamp) of playbook ``cacao_id``, else its
    current version."""
    if not isinstance(cacao_id, str):
        return None
    query = select(Playbook).where(Playbook.cacao_id == cacao_id)
    modified = timestamp(version)
    if modified is not None:
        return session.scalar(query.where(Playbook.modified == modified))
    return session.scalar(query.where(Playbook.current.is_(True)))


def ms(value: object) -> dt.timedelta | None:
    """A CACAO ``delay`` / ``timeout`` (milliseconds) as a duration; ``None`` when absent or
    not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return dt.timedelta(milliseconds=min(value, MAX_MS))


def when(moment: dt.datetime) -> str:
    """An instant as the state stores it (ISO 8601, UTC)."""
    return moment.astimezone(dt.UTC).isoformat()
