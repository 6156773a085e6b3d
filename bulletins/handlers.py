"""The bulletins slice's event subscribers, gathered for its manifest (each feature defines its
own ``HANDLERS``)."""

from __future__ import annotations

from bulletins.stix import handlers as stix_handlers
from core.events import Handler

HANDLERS: tuple[Handler, ...] = (*stix_handlers.HANDLERS,)
