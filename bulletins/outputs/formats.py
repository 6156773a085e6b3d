"""The renditions of a bulletin, registered by name (Flask-free): ``html``, ``text``, ``pdf``,
``csaf`` and ``stix``. Each sub-package registers its own at import (the slice manifest imports
them all); the API (``/api/v1/bulletins/<reference>.<suffix>``), ``cert bulletins export`` and
the pages look them up here.

A renderer takes a :class:`RenderContext` and a :class:`~bulletins.outputs.view.BulletinView`
and returns the bytes with their media type; it never reads the request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bulletins.outputs.view import BulletinView
from bulletins.settings import BulletinSettings


@dataclass(frozen=True)
class RenderContext:
    session: Session
    settings: BulletinSettings
    language: str = "fr"  # the language version to render (fr, en, ar); CSAF/STIX: fr
    base_url: str = ""  # the public address of Vigie, for links (e.g. "https://cert.gov.ma")
    now: dt.datetime | None = None  # when the rendition is generated (tests freeze it)


@dataclass(frozen=True)
class Rendered:
    body: bytes
    content_type: str


Renderer = Callable[[RenderContext, BulletinView], Rendered]


@dataclass(frozen=True)
class Format:
    name: str  # html, text, pdf, csaf, stix
    suffix: str  # the URL and file suffix: ".html", ".txt", ".pdf", ".csaf.json", ".stix.json"
    content_type: str
    render: Renderer


FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> None:
    if fmt.name in FORMATS and FORMATS[fmt.name] is not fmt:
        raise ValueError(f"bulletin format {fmt.name} is registered twice")
    FORMATS[fmt.name] = fmt


def by_name(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(
            f"no bulletin format {name!r} (formats: {', '.join(sorted(FORMATS))})"
        ) from None


def by_suffix(suffix: str) -> Format | None:
    return next((f for f in FORMATS.values() if f.suffix == suffix), None)


def file_name(view: BulletinView, fmt: Format) -> str:
    """``MACERT-AVI-2026-0042.pdf``; a draft is ``bulletin-<id>-draft.pdf``."""
    stem = view.reference or f"bulletin-{view.id}-draft"
    return f"{stem}{fmt.suffix}"
