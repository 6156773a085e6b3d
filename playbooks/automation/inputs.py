"""What triggers and schedules share (Flask-free, database reads only): reading input into a
schema with every field named, the playbook's phase rule, organisations, sectors and vigilance
centres that exist, the audit of a change (see :mod:`playbooks.automation.services`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.errors import NotFound, ValidationFailed, reason_of
from core.i18n import N_
from core.identity.authz import Actor
from core.identity.centres import Centre
from core.identity.models import Organisation
from incidents.rules.labels import SECTORS
from playbooks.audit import PlaybookAction
from playbooks.models import Phase, Playbook, PlaybookSchedule, PlaybookTrigger

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: Mapping[str, Any] | BaseModel, what: str) -> M:
    """``data`` as ``model``, or :class:`ValidationFailed` naming every invalid field."""
    if isinstance(data, model):
        return data
    raw = data.model_dump(exclude_unset=True) if isinstance(data, BaseModel) else dict(data)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors(include_url=False):
            name = ".".join(str(part) for part in error["loc"]) or what
            cause = (error.get("ctx") or {}).get("error")
            message = reason_of(cause) if isinstance(cause, ValueError) else error["msg"]
            fields[name] = f"{fields[name]}; {message}" if name in fields else message
        raise ValidationFailed(f"invalid {what}", fields=fields) from None


# ---------------------------------------------------------------- shared checks
def current_playbook(session: Session, cacao_id: str) -> Playbook | None:
    return session.scalar(
        select(Playbook).where(Playbook.cacao_id == cacao_id, Playbook.current.is_(True))
    )


def check_phase(session: Session, cacao_id: str, phase: Phase, errors: dict[str, str]) -> None:
    """Add to ``errors`` why ``cacao_id`` cannot take a trigger (AFTER) or schedule (BEFORE)."""
    playbook = current_playbook(session, cacao_id)
    if playbook is None:
        raise NotFound(f"no playbook {cacao_id}")
    if playbook.revoked:
        errors["playbook"] = N_("this playbook is revoked: it no longer starts")
    elif playbook.phase is not phase and phase is Phase.AFTER:
        errors["playbook"] = N_(
            "a trigger starts an after-incident playbook; this one runs before incidents "
            "(%(types)s): give it a schedule instead",
            types=", ".join(playbook.playbook_types) or "—",
        )
    elif playbook.phase is not phase:
        errors["playbook"] = N_(
            "a schedule fires a before-incident playbook; this one responds to incidents "
            "(%(types)s): give it a trigger instead",
            types=", ".join(playbook.playbook_types) or "—",
        )


def check_organisations(session: Session, ids: list[int] | None, field: str) -> dict[str, str]:
    if not ids:
        return {}
    found = set(session.scalars(select(Organisation.id).where(Organisation.id.in_(ids))))
    missing = [str(i) for i in ids if i not in found]
    if missing:
        return {field: N_("no organisation with the id %(ids)s", ids=", ".join(missing))}
    return {}


def sectors_in_use(session: Session) -> list[str]:
    """The sectors a trigger may name: the known ones and those organisations use."""
    query = select(func.lower(Organisation.sector)).where(Organisation.sector.is_not(None))
    return sorted({*SECTORS, *(s.strip() for s in session.scalars(query.distinct()) if s)})


def check_sectors(session: Session, sectors: list[str]) -> dict[str, str]:
    valid = sectors_in_use(session)
    unknown = [s for s in sectors if s not in valid]
    if unknown:
        return {
            "conditions.sectors": N_(
                "unknown sector %(value)s; valid sectors: %(valid)s",
                value=", ".join(unknown),
                valid=", ".join(valid),
            )
        }
    return {}


def centre_slugs(session: Session) -> list[str]:
    """The slugs of every vigilance centre, in order."""
    return list(session.scalars(select(Centre.slug).order_by(Centre.slug)))


def check_centres(session: Session, slugs: list[str]) -> dict[str, str]:
    """A trigger's ``centres`` condition: every slug names a centre."""
    if not slugs:
        return {}
    valid = centre_slugs(session)
    unknown = [s for s in slugs if s not in valid]
    if unknown:
        return {
            "conditions.centres": N_(
                "unknown centre %(value)s; valid centres: %(valid)s",
                value=", ".join(unknown),
                valid=", ".join(valid),
            )
        }
    return {}


def schedule_centre(
    session: Session, slug: str | None, organisation_ids: list[int] | None, errors: dict[str, str]
) -> Centre | None:
    """The centre whose constituency a schedule runs for (``None``: not scoped to a centre);
    the problem under ``centre`` when it names no centre or comes with organisations."""
    if slug is None:
        return None
    if organisation_ids:
        errors["centre"] = N_(
            "a schedule runs for the organisations chosen or for a centre's constituency, not both"
        )
        return None
    centre = session.scalar(select(Centre).where(Centre.slug == slug))
    if centre is None:
        errors["centre"] = N_(
            "unknown centre %(value)s; valid centres: %(valid)s",
            value=slug,
            valid=", ".join(centre_slugs(session)),
        )
    return centre


def audit_change(
    session: Session,
    actor: Actor,
    action: PlaybookAction,
    kind: str,
    object_id: int,
    before: dict[str, Any],
    after: dict[str, Any],
    row: PlaybookTrigger | PlaybookSchedule,
    clock: Clock,
) -> None:
    """Flush and audit what changed between ``before`` and ``after`` (nothing: no row)."""
    changed = [key for key in after if after[key] != before.get(key)]
    if not changed:
        return
    row.updated_at = clock.now()
    session.flush()
    audit.record(session, actor, action, kind, object_id, clock=clock,
                 before={k: before.get(k) for k in changed},
                 after={k: after[k] for k in changed})  # fmt: skip
