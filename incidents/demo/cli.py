"""The incidents slice's part of ``cert demo`` (:class:`core.slices.Demo`, declared in
:data:`incidents.slice.SLICE`): the realistic demo reports and the synthetic incidents of
``--incidents N``, with the slice's settings built from the configuration as the web application
builds them. The command owns the transaction. Flask-free.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy.orm import Session

from core.clock import Clock
from core.config import Config
from core.identity.authz import Actor
from incidents import settings
from incidents.demo.mail_samples import seed_demo_mail
from incidents.demo.matches import match_demo_incidents
from incidents.demo.reports import seed_demo_incidents
from incidents.demo.synthetic import generate_incidents, iter_years


def seed(session: Session, actor: Actor, clock: Clock, config: Config) -> str:
    """Submit the demo reports that are absent (enriched on arrival against the demo feed, seeded
    before: :data:`cert.slices_list.SLICES` lists feeds first), match those reported before the
    feed existed; the summary."""
    intake = settings.from_config(config)
    summary = seed_demo_incidents(session, actor, clock, settings=intake)
    new, total = match_demo_incidents(session, actor, clock, settings=intake)
    mail = seed_demo_mail(session, clock, settings=intake)
    return f"{summary}; {mail}; {total} intelligence match(es) ({new} by retro-hunt)"


def bulk(
    session: Session, actor: Actor, clock: Clock, config: Config, count: int, seed: int
) -> Sequence[str]:
    """Insert ``count`` synthetic incidents; how many, how fast and the references per year."""
    started = time.perf_counter()
    result = generate_incidents(
        session, actor, count, clock=clock, settings=settings.from_config(config), seed=seed
    )
    session.flush()
    elapsed = time.perf_counter() - started
    return [
        f"generated {result.incidents} synthetic incident(s) and {result.observables} "
        f"observable(s) in {elapsed:.1f} s ({result.incidents / elapsed:,.0f} incidents/s)",
        *(f"  {line}" for line in iter_years(result)),
    ]
