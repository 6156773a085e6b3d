"""What the REST API answers about a bulletin (Flask-free): the list item and the full
published view, both built from a :class:`~bulletins.outputs.view.BulletinView` (so a revision
in progress never shows), with the links to its renditions given by the adapter."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from bulletins.outputs.view import BulletinView


class TextOut(BaseModel):
    title: str
    summary: str = Field(description="Summary of the vulnerability or threat")
    solution: str = Field(description="Solution or mitigation")
    risks: str


class RevisionOut(BaseModel):
    number: int
    summary: str = Field(description="What the revision changed (1: `Version initiale`)")
    published_at: dt.datetime


class BulletinItemOut(BaseModel):
    """A bulletin in a list (as last published; a staff list of drafts shows them as they
    stand, with `status`)."""

    id: int
    reference: str | None = Field(description="e.g. `MACERT-AVI-2026-0042`; null: a draft")
    kind: str = Field(description="advisory, alert, note, digest")
    tlp: str
    risk: str = Field(description="critical, important, moderate, low")
    impact: str
    titles: dict[str, str] = Field(description="Language (fr, en, ar) → title; fr always")
    published_at: dt.datetime | None = Field(description="First publication")
    revised_at: dt.datetime | None = Field(description="Publication of the revision shown")
    revision: int = Field(description="The revision shown (0: never published)")
    cves: list[str]
    url: str | None = Field(description="This bulletin in the API (null for a draft)")
    renditions: dict[str, str] = Field(
        description="Format (html, text, pdf, csaf, stix) → URL of the rendition"
    )


class BulletinOut(BulletinItemOut):
    """A published bulletin, every field, as its last revision published it."""

    texts: dict[str, TextOut] = Field(description="Language (fr, en, ar) → its text")
    affected: list[dict[str, Any]] = Field(
        description="Affected systems: vendor, product, versions"
    )
    scores: list[dict[str, Any]] = Field(
        description="CVSS scores: cve, version, base_score, vector"
    )
    links: list[str] = Field(description="References (URLs)")
    indicators: list[dict[str, Any]] = Field(description="Indicators of compromise: type, value")
    revisions: list[RevisionOut] = Field(description="Every published revision, in order")


def item_out(view: BulletinView, *, url: str | None, renditions: dict[str, str]) -> BulletinItemOut:
    return BulletinItemOut(
        id=view.id, reference=view.reference, kind=view.kind.value, tlp=str(view.tlp),
        risk=view.risk.value, impact=view.impact.value,
        titles={lang: view.texts[lang].title for lang in view.languages},
        published_at=view.published_at, revised_at=view.revised_at, revision=view.revision,
        cves=list(view.cves), url=url, renditions=renditions,
    )  # fmt: skip


def bulletin_out(view: BulletinView, *, url: str, renditions: dict[str, str]) -> BulletinOut:
    item = item_out(view, url=url, renditions=renditions)
    texts = {
        lang: TextOut(title=t.title, summary=t.summary, solution=t.solution, risks=t.risks)
        for lang in view.languages
        for t in (view.texts[lang],)
    }
    return BulletinOut(
        **item.model_dump(), texts=texts, affected=list(view.affected), scores=list(view.scores),
        links=list(view.links), indicators=list(view.indicators),
        revisions=[RevisionOut(number=r.number, summary=r.summary, published_at=r.published_at)
                   for r in view.revisions],
    )  # fmt: skip
