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

It also imports the libraries that the PDF and CSAF code imports only when first used
(WeasyPrint, jsonschema: ~2 s of start-up that every CLI command and scheduler would otherwise
pay for nothing), so that no request pays for them and their objects are frozen too.
"""

from __future__ import annotations

import gc
import importlib

from feeds.index import benign

LAZY_LIBRARIES = ("weasyprint", "jsonschema")


def settle() -> None:
    benign.preload()
    for name in LAZY_LIBRARIES:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
