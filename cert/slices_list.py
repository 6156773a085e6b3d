"""The slices of this application, listed once (application layer): the app factory, the ``cert``
command line, the scheduler, Alembic's environment and the event dispatcher loop over them.

Adding a slice is one line here (its ``slice.py`` names what it contributes).
"""

from __future__ import annotations

from bulletins.slice import SLICE as BULLETINS
from core.slices import Slice
from feeds.slice import SLICE as FEEDS
from incidents.slice import SLICE as INCIDENTS
from playbooks.slice import SLICE as PLAYBOOKS

# feeds first: the order ``cert demo`` seeds in (the demo incidents are matched against the demo
# feed's indicators), as the slices depend on each other (incidents above feeds)
SLICES: tuple[Slice, ...] = (FEEDS, INCIDENTS, BULLETINS, PLAYBOOKS)
