"""Bulletins for the renditions' tests: a published advisory with every section (Arabic version,
CVEs, scores, indicators of each group, references) and a way to render it."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bulletins.models import Bulletin
from bulletins.outputs import formats
from bulletins.outputs.view import BulletinView, published_view
from bulletins.settings import BulletinSettings
from bulletins.slice import RENDITIONS  # noqa: F401  (registers the formats)
from core.clock import FrozenClock
from tests.bulletins.test_authoring import published
from tests.kit.world import World

SETTINGS = BulletinSettings(reference_prefix="MACERT", cert_name="maCERT")
ARABIC_TITLE = "ثغرة حرجة في FortiOS"
INDICATORS = [
    {"type": "ipv4", "value": "185.220.101.4"},
    {"type": "domain", "value": "evil-update.example"},
    {"type": "url", "value": "https://evil-update.example/dl.php?id=1&x=<b>"},
    {"type": "sha256", "value": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"},
]


def full(**changes: Any) -> dict[str, Any]:
    """A draft's fields with every section filled (``changes`` override them)."""
    data: dict[str, Any] = {
        "tlp": "amber",
        "organisations": [],
        "scores": [{"cve": "CVE-2026-21762", "version": "3.1", "base_score": 9.8,
                    "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "indicators": INDICATORS,
        "texts": {
            "fr": {"title": "Vulnérabilité critique dans FortiOS",
                   "summary": "Une faille critique.\nElle permet l'exécution de code.",
                   "solution": "Appliquer le correctif 7.0.14.", "risks": "Exécution de code"},
            "ar": {"title": ARABIC_TITLE, "summary": "تم اكتشاف ثغرة في FortiOS 7.0.13.",
                   "solution": "تطبيق التحديث 7.0.14.", "risks": "تنفيذ تعليمات برمجية"},
        },
    }  # fmt: skip
    data.update(changes)
    return data


def advisory(session: Session, clock: FrozenClock, world: World, **changes: Any) -> Bulletin:
    bulletin, _ = published(session, clock, world, **full(**changes))
    session.flush()
    return bulletin


def view_of(session: Session, bulletin: Bulletin) -> BulletinView:
    view = published_view(session, bulletin)
    assert view is not None
    return view


def render(
    session: Session, view: BulletinView, name: str, language: str = "fr"
) -> formats.Rendered:
    ctx = formats.RenderContext(
        session=session, settings=SETTINGS, language=language,
        now=dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC),
    )  # fmt: skip
    return formats.by_name(name).render(ctx, view)


def pdf_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page (poppler's ``pdftotext``)."""
    path = tmp_path / "bulletin.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                         check=True, text=True).stdout  # fmt: skip
    out = re.sub("[\u202a-\u202e\u2066-\u2069]", "", out)  # pdftotext's bidi controls
    return [page for page in out.split("\f") if page.strip()]
