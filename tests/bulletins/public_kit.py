"""Test helpers of the public side (API, archive, feeds): a test-only rendition registered in
the formats registry for the test's duration, and a cast of bulletins at every TLP, a draft and
revisions in progress."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bulletins.authoring import services as svc
from bulletins.models import Bulletin, BulletinDelivery
from bulletins.outputs import formats
from core.clock import FrozenClock
from tests.bulletins.test_authoring import draft, people, published
from tests.kit.world import World

PROBE = formats.Format(
    name="probe",
    suffix=".probe.json",
    content_type="application/json",
    render=lambda ctx, view: formats.Rendered(
        json.dumps(
            {
                "reference": view.reference,
                "tlp": str(view.tlp),
                "language": ctx.language,
                "title": view.text(ctx.language).title,
            }
        ).encode(),  # fmt: skip
        "application/json",
    ),
)


@contextmanager
def probe_format() -> Iterator[formats.Format]:
    """``.probe.json``: a rendition of the published view, registered for one test only."""
    formats.register(PROBE)
    try:
        yield PROBE
    finally:
        formats.FORMATS.pop(PROBE.name, None)


def title(fr: str, **more: Any) -> dict[str, Any]:
    return {"fr": {"title": fr, "summary": f"Résumé de {fr}"}, **more}


@dataclass
class Cast:
    """References (None for the draft) of each bulletin of the access matrix."""

    refs: dict[str, str | None]
    bulletins: dict[str, Bulletin]

    def ref(self, name: str) -> str:
        found = self.refs[name]
        assert found is not None
        return found


def cast(session: Session, clock: FrozenClock, world: World) -> Cast:
    """clear, green, amber (about interieur), strict (AMBER+STRICT about interieur), red_sent
    (delivered to the reporter), red, draft (never published), revising (CLEAR, a revision in
    progress with a new title), retlp (AMBER about sante, a revision in progress making it
    CLEAR)."""
    author, lead, _ = people(world)
    made: dict[str, Bulletin] = {}

    def publish(name: str, **changes: Any) -> Bulletin:
        clock.advance(minutes=5)
        made[name] = published(session, clock, world, **changes)[0]
        return made[name]

    publish("clear", texts=title("Bulletin public", ar={"title": "نشرة عامة"}))
    publish("green", tlp="TLP:GREEN", texts=title("Bulletin communauté"))
    publish("amber", tlp="TLP:AMBER", organisations=[world.interieur.slug],
            texts=title("Bulletin intérieur"))  # fmt: skip
    publish("strict", tlp="TLP:AMBER+STRICT", organisations=[world.interieur.slug],
            texts=title("Bulletin strict"))  # fmt: skip
    red_sent = publish("red_sent", tlp="TLP:RED", texts=title("Bulletin rouge remis"))
    session.add(BulletinDelivery(bulletin_id=red_sent.id, revision=1, email=world.reporter.email,
                                 language="fr", created_at=clock.now()))  # fmt: skip
    publish("red", tlp="TLP:RED", texts=title("Bulletin rouge"))
    revising = publish("revising", texts=title("Titre publié"))
    svc.revise(session, author, revising, clock=clock)
    svc.update_draft(session, author, revising, draft(texts=title("Titre SECRET en cours")),
                     clock=clock)  # fmt: skip
    retlp = publish("retlp", tlp="TLP:AMBER", organisations=[world.sante.slug],
                    texts=title("Bulletin santé"))  # fmt: skip
    svc.revise(session, author, retlp, clock=clock)
    svc.update_draft(session, author, retlp, draft(texts=title("Bulletin santé")), clock=clock)
    made["draft"] = svc.create_draft(session, author, draft(texts=title("Brouillon")),
                                     clock=clock)  # fmt: skip
    session.flush()
    return Cast({name: b.reference for name, b in made.items()}, made)
