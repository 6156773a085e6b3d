"""What the human renditions of a bulletin show (Flask-free): the labels in the bulletin's
language, dates in ``CERT_TIMEZONE``, indicators grouped by type, and the text as escaped HTML
(:class:`Body`, built by :func:`body_of`). The HTML document and page, the PDF, the text and the
e-mails all read it, so they say the same thing in the same words.

Right to left: a browser honours ``dir`` and ``<bdi>``, so the HTML isolates each technical
fragment (CVE id, version, URL, hash, reference) in ``<bdi dir="ltr">`` and lets ``dir="auto"``
order free text; WeasyPrint ignores both, so the PDF isolates them in the text itself with
Unicode isolates (:func:`incidents.reporting.report_pdf.ltr` and ``isolate_latin``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from markupsafe import Markup, escape

from bulletins.labels import RISK_LEVELS
from bulletins.models import BulletinKind
from bulletins.outputs.formats import RenderContext
from bulletins.outputs.view import BulletinView
from core.i18n import N_, RTL_LOCALES, translations
from core.markings import tlp_table
from incidents.reporting.report_pdf import FSI, PDI, isolate_latin, ltr

CVE_URL = "https://www.cve.org/CVERecord?id="

KINDS = {
    BulletinKind.ADVISORY: N_("Security bulletin"),
    BulletinKind.ALERT: N_("Alert"),
    BulletinKind.NOTE: N_("Security note"),
    BulletinKind.DIGEST: N_("Weekly bulletin"),
}
LEVELS = RISK_LEVELS
SUMMARIES = {
    BulletinKind.ADVISORY: N_("Vulnerability summary"),
    BulletinKind.ALERT: N_("Threat summary"),
    BulletinKind.NOTE: N_("Threat summary"),
    BulletinKind.DIGEST: N_("Overview of the period"),
}
HEADINGS = {
    "reference": N_("Reference"),
    "draft": N_("Draft"),
    "draft_notice": N_("Draft: not published, may change."),
    "published": N_("Date of publication"),
    "updated": N_("Date of last update"),
    "revision": N_("Revision"),
    "risk": N_("Risk level"),
    "impact": N_("Impact level"),
    "affected": N_("Affected systems"),
    "vendor": N_("Vendor"),
    "product": N_("Product"),
    "versions": N_("Versions"),
    "cves": N_("External identifiers"),
    "scores": N_("CVSS scores"),
    "score": N_("Base score"),
    "vector": N_("Vector"),
    "solution": N_("Solution"),
    "risks": N_("Risk"),
    "indicators": N_("Indicators of compromise"),
    "links": N_("References"),
    "history": N_("Revision history"),
    "date": N_("Date"),
    "change": N_("Change"),
    "none": N_("None"),
}
# indicator types in display order, each in its group
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (N_("IP addresses"), ("ipv4", "ipv6")),
    (N_("Domains"), ("domain",)),
    (N_("URLs"), ("url",)),
    (N_("File hashes"), ("sha256", "sha1", "md5")),
    (N_("File names"), ("file",)),
    (N_("E-mail addresses"), ("email",)),
)
TYPE_NAMES = {"sha256": "SHA-256", "sha1": "SHA-1", "md5": "MD5", "ipv4": "IPv4", "ipv6": "IPv6"}


@dataclass(frozen=True)
class Group:
    label: str
    items: list[tuple[str, str]]  # (type name or "", value)


@dataclass(frozen=True)
class Body:
    """A bulletin ready to show in one language (``t``: the headings, translated)."""

    view: BulletinView
    language: str  # of the text shown (the requested one, else French)
    rtl: bool
    cert_name: str
    t: dict[str, str]
    kind: str
    title: str
    summary_heading: str
    summary: str
    solution: str
    risks: str
    risk: str
    impact: str
    tlp: str
    tlp_class: str  # "tlp-amber-strict": the page's stylesheet colours it
    tlp_colour: str  # the official colour (on black)
    published: str
    updated: str
    groups: list[Group]
    revisions: list[tuple[int, str, str]]  # (number, date, summary)

    @property
    def reference(self) -> str:
        return self.view.reference or self.t["draft"]


def body_of(ctx: RenderContext, view: BulletinView) -> Body:
    text = view.text(ctx.language)
    language = text.language
    gettext = translations(language).gettext
    rtl = language in RTL_LOCALES
    zone = ctx.settings.timezone

    def when(value: dt.datetime | None) -> str:
        if value is None:
            return "—"
        shown = str(
            format_datetime(value, "d MMMM y, HH:mm ZZZZ", tzinfo=ZoneInfo(zone), locale=language)
        )
        return f"{FSI}{shown}{PDI}" if rtl else shown

    tlp = str(view.tlp)
    return Body(
        view=view, language=language, rtl=rtl, cert_name=ctx.settings.cert_name,
        t={key: gettext(msgid) for key, msgid in HEADINGS.items()},
        kind=gettext(KINDS[view.kind]), title=text.title,
        summary_heading=gettext(SUMMARIES[view.kind]), summary=text.summary,
        solution=text.solution, risks=text.risks,
        risk=gettext(LEVELS[view.risk]), impact=gettext(LEVELS[view.impact]),
        tlp=tlp, tlp_class="tlp-" + tlp.removeprefix("TLP:").lower().replace("+", "-"),
        tlp_colour=tlp_table()[view.tlp].colour,
        published=when(view.published_at), updated=when(view.revised_at or view.published_at),
        groups=groups(view.indicators, gettext),
        revisions=[(r.number, when(r.published_at), r.summary) for r in view.revisions],
    )  # fmt: skip


def groups(indicators: list[dict[str, Any]], gettext: Callable[[str], str]) -> list[Group]:
    """The indicators by group (IP addresses, domains, URLs, file hashes…), in display order;
    a type no group knows goes last under its own name."""
    found: list[Group] = []
    known: set[str] = set()
    for label, types in GROUPS:
        known.update(types)
        items = [
            (TYPE_NAMES.get(kind, "") if len(types) > 1 else "", str(item["value"]))
            for kind in types
            for item in indicators
            if item.get("type") == kind
        ]
        if items:
            found.append(Group(gettext(label), items))
    others = [i for i in indicators if i.get("type") not in known]
    if others:
        found.append(
            Group("…", [(str(i.get("type", "")), str(i.get("value", ""))) for i in others])
        )
    return found


# ---------------------------------------------------------------- bidi and text as HTML
@dataclass(frozen=True)
class Bidi:
    """How a fragment is written in this rendition: ``isolates`` for WeasyPrint (the PDF)."""

    rtl: bool
    isolates: bool = False

    def code(self, value: object) -> Markup:
        """A technical fragment (CVE id, version, URL, hash, reference) kept left to right."""
        if not self.rtl:
            return escape(str(value))
        if self.isolates:
            return escape(ltr(value))
        return Markup('<bdi dir="ltr">{}</bdi>').format(value)

    def text(self, value: str) -> Markup:
        """Free text (a title, a line): a browser orders it by ``dir="auto"``."""
        return escape(isolate_latin(value) if self.rtl and self.isolates else value)

    def paragraphs(self, value: str) -> Markup:
        """Plain text with line breaks as escaped paragraphs (a blank line) and ``<br>``."""
        blocks = [b.strip("\n") for b in value.replace("\r\n", "\n").split("\n\n") if b.strip()]
        return Markup("\n").join(
            Markup('<p dir="auto">{}</p>').format(
                Markup("<br>\n").join(self.text(line) for line in block.split("\n"))
            )
            for block in blocks
        )
