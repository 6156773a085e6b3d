"""Managing a stored playbook (Flask-free use cases): enabling and disabling it.

``enabled`` belongs to the playbook, not to one version: it is changed on every version row
together (a version imported later inherits it, :mod:`playbooks.library.services`). A disabled
playbook's triggers and schedules do not fire; runs already started go on.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.errors import NotFound
from core.identity.authz import Actor
from playbooks.audit import PlaybookAction
from playbooks.models import Playbook


def set_enabled(
    session: Session, actor: Actor, cacao_id: str, enabled: bool, *, clock: Clock
) -> Playbook:
    """Enable or disable every version of ``cacao_id`` (audited when it changes); returns the
    current version (else the newest). ``NotFound`` for an unknown playbook."""
    versions = list(
        session.scalars(
            select(Playbook)
            .where(Playbook.cacao_id == cacao_id)
            .order_by(Playbook.current.desc(), Playbook.modified.desc())
        )
    )
    if not versions:
        raise NotFound(f"no playbook {cacao_id}")
    was = versions[0].enabled
    if was != enabled or any(v.enabled != enabled for v in versions):
        session.execute(
            update(Playbook)
            .where(Playbook.cacao_id == cacao_id)
            .values(enabled=enabled)
            .execution_options(synchronize_session="fetch")
        )
        session.flush()
        action = PlaybookAction.ENABLE if enabled else PlaybookAction.DISABLE
        audit.record(session, actor, action, "playbook", cacao_id, clock=clock,
                     before={"enabled": was}, after={"enabled": enabled})  # fmt: skip
    return versions[0]
