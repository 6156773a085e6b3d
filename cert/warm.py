"""Settling a web worker before it serves (application layer): the process's long-lived objects
out of the garbage collector's sight.

A full (generation-2) collection walks every tracked container of the process; with the
application, its libraries and the MISP warning lists loaded, that walk cost 150–250 ms, paid
by whichever request triggered it — one TAXII page in five at 1,000 objects a page
(bench/taxii.py: every request over 200 ms coincided with a generation-2 collection, none after
freezing). :func:`settle` loads what every worker will need anyway (the warning lists, otherwise
loaded by the first report or enrichment), collects once, then freezes what is alive: those
objects move to a permanent generation that collections skip (``gc.freeze``, the technique
CPython documents for pre-fork servers). ``cert web`` calls it in each worker after building the
application; the test suite never does (it would keep its garbage forever).
"""

from __future__ import annotations

import gc

from feeds.index import benign


def settle() -> None:
    benign.preload()
    gc.collect()
    gc.freeze()
