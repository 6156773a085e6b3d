"""MISP events and feeds written by PyMISP (a real producer) for the feeds tests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pymisp import MISPEvent, MISPOrganisation
from pymisp.tools import feed_meta_generator

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


def event(info: str, *, at: dt.datetime, tags: tuple[str, ...] = ()) -> MISPEvent:
    """A MISP event from CERT-X, timestamped ``at``."""
    misp = MISPEvent()
    misp.info = info
    misp.timestamp = at
    organisation = MISPOrganisation()
    organisation.name = "CERT-X"
    organisation.uuid = "5d1a1ab4-1111-4111-8111-111111111111"
    misp.Orgc = organisation
    for tag in tags:
        misp.add_tag(tag)
    return misp


def feed_document(misp: MISPEvent) -> bytes:
    """The event as a MISP feed publishes it (``{"Event": {...}}``)."""
    return json.dumps(misp.to_feed()).encode()


def write_feed(directory: Path, events: list[MISPEvent]) -> None:
    """A MISP feed in ``directory``: ``<uuid>.json`` per event, then PyMISP's own
    ``manifest.json`` (and ``hashes.csv``) from those files."""
    directory.mkdir(parents=True, exist_ok=True)
    for misp in events:
        (directory / f"{misp.uuid}.json").write_bytes(feed_document(misp))
    feed_meta_generator(directory)


def manifest(directory: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((directory / "manifest.json").read_text())
    return loaded
