"""The feeds slice's part of ``cert demo`` (:class:`core.slices.Demo`, declared in
:data:`feeds.slice.SLICE`): the demo feed ``demo-intel`` (kind ``file``) and its STIX 2.1 bundle,
``feeds/data/demo/demo-intel.stix.json``. Flask-free; the command owns the transaction.

The bundle is fictitious but realistic: 36 indicators (phishing domains, URLs and senders, C2
and scanning addresses, two /24 networks, malware hashes), each ``indicates`` a malware family
(LockBit 3.0, SocGholish, China Chopper), a campaign or an ATT&CK technique (real ids: T1566,
T1566.002, T1486, T1190, T1110, T1498.002, T1505.003, T1595.001, T1078, T1204.002, T1071.001),
marked TLP:GREEN or TLP:AMBER with the TLP 2.0 marking objects it ships. Its values meet the
observables of the demo incidents (``incidents/data/demo_incidents.json``), so that the demo
shows matches; the incidents slice records them (:mod:`incidents.demo.cli`).

Idempotent: the feed is created and the bundle imported (a run and its audit rows,
:func:`feeds.sources.imports.import_document`) only when the feed is absent.
"""

from __future__ import annotations

from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.config import Config
from core.identity.authz import Actor
from feeds.models import Feed
from feeds.sources.imports import create_file_feed, import_document

FEED = "demo-intel"
BUNDLE = "demo-intel.stix.json"


def bundle() -> bytes:
    """The demo bundle, as shipped in the package."""
    return resources.files("feeds").joinpath(f"data/demo/{BUNDLE}").read_bytes()


def seed(session: Session, actor: Actor, clock: Clock, config: Config) -> str:
    """Create the demo feed and import its bundle, unless the feed exists; one summary line."""
    if session.scalar(select(Feed.id).where(Feed.name == FEED)) is not None:
        return f"demo feed {FEED}: already present"
    now = clock.now()
    create_file_feed(session, actor, FEED, now=now)
    run = import_document(session, actor, bundle(), name=BUNDLE, feed_name=FEED, now=now)
    return (
        f"demo feed {FEED}: {run.new} indicator(s) imported, {run.rejected} rejected "
        f"(run {run.id}, {run.status.value})"
    )
