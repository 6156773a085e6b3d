"""The bulletins slice's event subscribers, gathered for its manifest (each feature defines its
own ``HANDLERS``)."""

from __future__ import annotations

from bulletins.authoring import handlers as authoring_handlers
from bulletins.stix import handlers as stix_handlers
from core.events import Handler

HANDLERS: tuple[Handler, ...] = (*authoring_handlers.HANDLERS, *stix_handlers.HANDLERS)
