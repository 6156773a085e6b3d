"""``incidents.access``: the SQL forms (``visible``, ``workable``) and their Python twins
(``can_see``, ``can_work``) agree for every actor of the centres' scene on every incident, before
any share, shared read, shared work, and when the centre is also the incident's own; and
``require_work`` says 404 for what one may not see, 403 for what one only reads. Both
databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.errors import NotFound, PermissionDenied
from core.identity.authz import Actor
from incidents import access
from incidents.models import Incident, ShareMode
from tests.incidents import centre_scene
from tests.incidents.centre_scene import Centres
from tests.kit.world import World


@pytest.fixture
def centres(
    db_session: Session, clock: FrozenClock, settings: dict[str, Any], world: World
) -> Centres:
    return centre_scene.build(db_session, clock, world, Path(settings["upload_dir"]))


def _agree(session: Session, c: Centres) -> dict[str, tuple[set[str], set[str]]]:
    """Actor's e-mail → (references seen, references worked); asserts the twins agree."""
    incidents = list(session.scalars(select(Incident).order_by(Incident.id)))
    found = {}
    for user in (c.health_analyst, c.finance_analyst, c.national, c.lead, c.participant,
                 c.reporter, c.helper):  # fmt: skip
        actor = Actor.for_user(user)
        seen = set(session.scalars(select(Incident.reference).where(access.visible(actor))))
        worked = set(session.scalars(select(Incident.reference).where(access.workable(actor))))
        assert seen == {i.reference for i in incidents if access.can_see(actor, i)}, user.email
        assert worked == {i.reference for i in incidents if access.can_work(actor, i)}, user.email
        assert worked <= seen or not actor.is_cert_staff
        found[user.email] = (seen, worked)
    return found


@pytest.mark.parametrize("mode", [None, ShareMode.READ, ShareMode.WORK])
def test_the_twins_agree(mode: ShareMode | None, centres: Centres, db_session: Session) -> None:
    health, finance = centres.health, centres.finance_centre
    if mode is not None:
        centre_scene.share(db_session, health, finance, mode)
        centre_scene.share(db_session, centres.health_red, finance, mode)  # TLP:RED: no effect
        centre_scene.share(db_session, centres.finance, finance, mode)  # its own centre
    found = _agree(db_session, centres)
    seen, worked = found[centres.finance_analyst.email]
    assert (health.reference in seen) is (mode is not None)
    assert (health.reference in worked) is (mode is ShareMode.WORK)
    assert centres.finance.reference in worked  # its own centre's, whatever the share
    # TLP:RED stays with its assignee (the finance analyst), participants and leads
    red = centres.health_red.reference
    assert red not in found[centres.health_analyst.email][0]
    assert red not in found[centres.national.email][0]
    assert red in found[centres.lead.email][1] and red in worked
    # the participant of the finance incident works it from the health centre
    assert centres.finance.reference in found[centres.participant.email][1]


def test_require_work_says_404_unseen_and_403_read_only(
    centres: Centres, db_session: Session
) -> None:
    actor, health = Actor.for_user(centres.finance_analyst), centres.health
    with pytest.raises(NotFound):
        access.require_work(actor, health, "commenting")
    centre_scene.share(db_session, health, centres.finance_centre, ShareMode.READ)
    with pytest.raises(PermissionDenied):
        access.require_work(actor, health, "commenting")
    centre_scene.share(db_session, health, centres.finance_centre, ShareMode.WORK)
    access.require_work(actor, health, "commenting")
