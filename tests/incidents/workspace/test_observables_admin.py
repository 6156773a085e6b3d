"""incidents.workspace.observables_admin: analysts add and remove observables on the incident
file."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from incidents.workspace.observables_admin import add_observable, remove_observable
from tests.incidents.workspace_helpers import audit_actions, events
from tests.kit.factories import report
from tests.kit.world import World


def test_observables_are_added_canonical_once_and_removed(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, tlp="TLP:GREEN")
    analyst = world.actor(world.analyst)
    added = add_observable(
        db_session, analyst, incident, "domain", "Evil[.]Example.COM", clock=clock
    )
    assert (added.type, added.value, added.tlp) == ("domain", "evil.example.com", "TLP:GREEN")
    assert added.sources == ["analyst"]
    with pytest.raises(Conflict):
        add_observable(db_session, analyst, incident, "domain", "evil.example.com", clock=clock)
    with pytest.raises(ValidationFailed) as caught:
        add_observable(db_session, analyst, incident, "ipv4", "999.1.1.1", clock=clock)
    assert set(caught.value.fields) == {"value"}
    with pytest.raises(PermissionDenied):
        add_observable(
            db_session, world.actor(world.reporter), incident, "md5", "0" * 32, clock=clock
        )
    remove_observable(db_session, analyst, incident, added.id, clock=clock)
    db_session.flush()
    assert "evil.example.com" not in {o.value for o in incident.observables}
    with pytest.raises(NotFound):
        remove_observable(db_session, analyst, incident, added.id, clock=clock)
    kinds = [e.kind for e in events(db_session, incident)]
    assert kinds[-2:] == ["observable_added", "observable_removed"]
    actions = audit_actions(db_session, incident)
    assert "incident.observable_added" in actions and "incident.observable_removed" in actions
