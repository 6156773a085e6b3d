"""Bulk work without the cyclic garbage collector (pure module).

Parsing a 100,000-indicator bundle allocates millions of small containers that all stay alive
until the document is stored; the collector's generation-2 passes walk all of them again and
again, about a third of the parse (``bench/ingest.py``). Reference counting frees almost
everything a parse drops; the few cycles (the pattern grammar's parse trees) wait for the
collector, which :func:`paused_gc` switches off for the block and back on after it (if it was
on: blocks nest).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
