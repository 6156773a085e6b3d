"""Every slice's domain-event handlers, listed once for the dispatcher (composition root):
the scheduler's ``events.deliver`` job and ``cert events deliver`` use :data:`HANDLERS`.

They come from the slice manifests (:data:`cert.slices_list.SLICES`), whose events modules,
once imported, have registered the event names and payloads the dispatcher reads back.
"""

from __future__ import annotations

from cert.slices_list import SLICES
from core.events import Handler

HANDLERS: tuple[Handler, ...] = tuple(handler for slice_ in SLICES for handler in slice_.handlers)
