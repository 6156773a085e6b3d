"""The TAXII server on loopback: ``create_app`` on a database of its own (per backend, per module),
served by werkzeug on 127.0.0.1 in a thread, with a cast and incidents committed once:

* ``interieur`` (the cast's reporter): ``green`` (TLP:GREEN, with one RED and one warning-listed
  observable and a sighting of a GREEN feed indicator), ``amber`` (TLP:AMBER, with an analyst's
  lead and a sighting of an AMBER+STRICT feed indicator), ``red`` (TLP:RED), ``rejected``
  (TLP:GREEN, rejected);
* ``sante`` (the cast's other reporter): ``sante_amber`` (TLP:AMBER), ``sante_strict``
  (TLP:AMBER+STRICT).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from cert.app import create_app
from core.clock import FrozenClock
from core.db import make_engine, make_session_factory
from core.identity.models import User
from core.markings import Tlp
from feeds.models import Feed, FeedKind, Indicator
from incidents.intel.models import FoundBy, IncidentMatch
from incidents.models import Incident, IncidentStatus
from incidents.workspace.observables_admin import add_observable
from tests.dbs import BACKENDS, TestDatabase, create_database
from tests.kit.config import SUITE_SETTINGS
from tests.kit.factories import INFECTED_HOST, report
from tests.kit.world import World

GREEN_FEED_INDICATOR = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class Taxii:
    """The served application, its data and the tokens of its readers."""

    url: str
    database: TestDatabase
    clock: FrozenClock
    incidents: dict[str, Incident] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # analyst, interieur, sante
    users: dict[str, User] = field(default_factory=dict)

    @property
    def root(self) -> str:
        return f"{self.url}/taxii2/vigie/"

    def session(self) -> Session:
        return Session(self.database.engine, expire_on_commit=False)


def _match(session: Session, incident: Incident, value: str, tlp: Tlp, stix_id: str | None,
           clock: FrozenClock) -> None:  # fmt: skip
    feed = Feed(name=f"feed-{tlp}", kind=FeedKind.FILE, default_tlp=tlp, created_at=clock.now())
    session.add(feed)
    session.flush()
    indicator = Indicator(
        feed_id=feed.id, source_ref=f"ref-{tlp}", stix_id=stix_id, tlp=tlp,
        created_at=clock.now(), updated_at=clock.now(),
    )  # fmt: skip
    session.add(indicator)
    session.flush()
    observable = next(o for o in incident.observables if o.value == value)
    session.add(
        IncidentMatch(
            incident_id=incident.id, observable_id=observable.id, indicator_id=indicator.id,
            why="exact", matched=value, found_by=FoundBy.ARRIVAL, matched_at=clock.now(),
        )
    )  # fmt: skip
    session.flush()


def _arrange(session: Session, clock: FrozenClock) -> dict[str, Any]:
    world = World(session, clock)
    made: dict[str, Incident] = {}
    made["green"] = green = report(session, clock, world.reporter, tlp="TLP:GREEN")
    next(o for o in green.observables if o.type == "email").tlp = Tlp.RED
    next(o for o in green.observables if o.value == "interieur-gov.ma").warning_lists = ["Known"]
    _match(session, green, "185.220.101.4", Tlp.GREEN, GREEN_FEED_INDICATOR, clock)
    made["amber"] = amber = report(
        session, clock, world.reporter, INFECTED_HOST, tlp="TLP:AMBER",
        description="Alerte sur 192.0.2.10 depuis 192.0.2.11",
    )  # fmt: skip
    add_observable(
        session, world.actor(world.analyst), amber, "domain", "lead.example", clock=clock
    )
    _match(session, amber, "192.0.2.11", Tlp.AMBER_STRICT, None, clock)
    made["red"] = report(session, clock, world.reporter, INFECTED_HOST, tlp="TLP:RED",
                         description="Secret 203.0.113.99")  # fmt: skip
    made["rejected"] = report(
        session, clock, world.reporter, INFECTED_HOST, tlp="TLP:GREEN",
        description="Faux positif 203.0.113.98", state={"status": IncidentStatus.REJECTED},
    )  # fmt: skip
    health = world.other_reporter
    made["sante_amber"] = report(
        session, clock, health, INFECTED_HOST, tlp="TLP:AMBER", description="Santé 198.51.100.50"
    )
    made["sante_strict"] = report(
        session, clock, health, INFECTED_HOST, tlp="TLP:AMBER+STRICT",
        description="Santé 198.51.100.51",
    )  # fmt: skip
    users = {"analyst": world.analyst, "interieur": world.reporter, "sante": world.other_reporter}
    tokens = {name: world.token(user) for name, user in users.items()}
    return {"incidents": made, "tokens": tokens, "users": users}


@pytest.fixture(scope="module", params=BACKENDS)
def taxii(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Taxii]:
    directory: Path = tmp_path_factory.mktemp(f"taxii-{request.param}")
    database = create_database(request.param, directory)
    clock = FrozenClock()
    with Session(database.engine, expire_on_commit=False) as session:
        arranged = _arrange(session, clock)
        session.commit()
    engine = make_engine(database.url)
    app = create_app(
        {
            "instance_dir": directory / "instance",
            "upload_dir": directory / "uploads",
            "database_url": database.url,
            "secret_key": "taxii-test-secret-" + "x" * 32,
            "smtp_url": "smtp://127.0.0.1:2525",
            "mail_from": "Vigie <cert@example.test>",
            "testing": True,
            **SUITE_SETTINGS,
        },
        session_factory=make_session_factory(engine),
    )
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="taxii-server", daemon=True)
    thread.start()
    yield Taxii(f"http://127.0.0.1:{server.server_port}", database, clock, **arranged)
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    engine.dispose()
    database.drop()
