"""The Babel catalogues seen from the tests: compile them when stale, extract the sources' strings.

``make translations`` compiles ``core/translations/*/LC_MESSAGES/messages.po``; a direct ``pytest``
run gets the same through :func:`compile_stale` (called once per session by ``conftest``).
"""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "core" / "translations"
SOURCE_PACKAGES = (
    "cert",
    "core",
    "incidents",
    "feeds",
    "bulletins",
    "playbooks",
)  # as in `make messages`
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


def catalogue(locale: str) -> Catalog:
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=locale)


def compile_stale() -> None:
    """Write ``messages.mo`` next to every ``messages.po`` that is newer (``make translations``)."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        # one temporary file a process: pytest-xdist's workers may compile at the same time
        tmp = mo.with_suffix(f".mo.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            write_mo(handle, catalogue(po.parent.parent.name))
        tmp.replace(mo)


def source_messages() -> set[str]:
    """Every msgid the sources use (``babel.cfg``, the keywords of ``make messages``)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: set[str] = set()
    for package in SOURCE_PACKAGES:
        if not (ROOT / package).is_dir():
            continue
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map, options_map, keywords=KEYWORDS
        ):
            found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found
