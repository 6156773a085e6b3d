"""PDF incident report through WeasyPrint (Flask-free): French, English or Arabic (right to left).

Two versions from one template:
* **staff**: every field, the full timeline (internal comments included), tasks, assignee, every
  observable with the incident a merge brought it from;
* **reporter**: what the status page shows — public timeline only, no assignee, no internal
  priority reason, no tasks, only the observables of the reporting organisation
  (:func:`incidents.origins.reported_observables`).

Events come as :class:`incidents.named.EventView` (references the reader may not see left out).

Right to left (Arabic): WeasyPrint ignores ``unicode-bidi`` and inline ``dir``, so every Latin
or technical fragment is isolated in the text itself with Unicode isolates, which Pango honours:
references, URLs, addresses, hashes, codes in ``LRI … PDI`` (:func:`ltr`), dates in
``FSI … PDI``, and the Latin runs of free text (titles, descriptions, messages, names) each as one
left-to-right unit (:func:`isolate_latin`) — "hxxps://evil[.]example" and "Titre - suite" keep
their order. The page number reads "1 / 4" in a left-to-right footer.

The TLP label sits at the top right of every page in the official TLP 2.0 colours (coloured text
on black, ``core/data/tlp.json``). The page renders offline: WeasyPrint may fetch nothing
(every URL is refused), fonts are the system's (DejaVu Sans covers Latin and Arabic; Pango shapes
the Arabic text).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import nh3
from babel.dates import format_datetime
from babel.units import format_unit

from core.i18n import RTL_LOCALES, mail_environment, normalise_locale
from core.markings import tlp_table
from incidents.models import Attachment, Incident, IncidentObservable, IncidentTask
from incidents.named import EventView
from incidents.origins import Origin
from incidents.rules import labels
from incidents.rules.sla import sla
from incidents.workspace.workflow import public_reason

TEMPLATE = "incidents/report/report.html"
LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"  # left-to-right / first-strong isolate, pop
_ARABIC = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff"  # Hebrew and Arabic blocks
_END = rf"[^\s{_ARABIC}.,;:!?،؛)(]"  # a run ends on neither space nor sentence punctuation
_LATIN_RUN = re.compile(rf"[A-Za-z0-9\u00c0-\u024f](?:[^{_ARABIC}\n]*{_END})?")


def ltr(value: object) -> str:
    """A technical fragment (reference, URL, address, hash, code) as one left-to-right unit."""
    return f"{LRI}{value}{PDI}"


_STRONG = re.compile(rf"[A-Za-z\u00c0-\u024f{_ARABIC}]")


def isolate_latin(text: str) -> str:
    """Free text laid out as ``dir="auto"`` would (which WeasyPrint ignores), line by line: a
    line that starts in Latin script is one left-to-right unit (its Arabic words inside it keep
    their own direction); in a line that starts in Arabic, each run of Latin script (with the
    spaces and punctuation inside it) is one left-to-right unit."""
    lines = []
    for line in text.split("\n"):
        first = _STRONG.search(line)
        if first is not None and first.group(0) < "\u0590":
            lines.append(ltr(line))
        else:
            lines.append(_LATIN_RUN.sub(lambda match: ltr(match.group(0)), line))
    return "\n".join(lines)


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise ValueError(f"the incident report loads no resource ({url[:60]})")


def plain_text(html: str) -> str:
    """Sanitised rich text (comments, replies) as plain text for the report."""
    return nh3.clean(html.replace("</p>", "</p>\n").replace("<br>", "\n"), tags=set())


def report_html(
    incident: Incident,
    *,
    events: Sequence[EventView],
    observables: Sequence[IncidentObservable],
    attachments: Sequence[Attachment] = (),
    origins: Mapping[int, Origin],
    tasks: Sequence[IncidentTask],
    staff: bool,
    locale: str,
    zone: str,
    now: dt.datetime,
) -> str:
    """The report as HTML (what WeasyPrint lays out); ``events`` newest first."""
    locale = normalise_locale(locale)
    tz = ZoneInfo(zone)

    rtl = locale in RTL_LOCALES

    def when(value: dt.datetime | None) -> str:
        if value is None:
            return "—"
        text = format_datetime(value.astimezone(tz), "medium", tzinfo=tz, locale=locale)
        return f"{FSI}{text}{PDI}" if rtl else text

    def size(count: int) -> str:
        for unit, factor in (("digital-megabyte", 1024**2), ("digital-kilobyte", 1024)):
            if count >= factor:
                return str(format_unit(round(count / factor, 1), unit, "short", locale=locale))
        return str(format_unit(count, "digital-byte", "short", locale=locale))

    def bidi(text: object) -> str:
        return isolate_latin(str(text)) if rtl else str(text)

    def iso(value: object) -> str:
        return ltr(value) if rtl else str(value)

    tlp = incident.tlp
    return (
        mail_environment("incidents", locale)
        .get_template(TEMPLATE)
        .render(
            incident=incident,
            events=list(reversed(events)),  # oldest first in a report
            observables=observables,
            attachments=attachments,
            origins=origins if staff else {},
            tasks=tasks if staff else [],
            staff=staff,
            locale=locale,
            rtl=rtl,
            bidi=bidi,
            ltr=iso,
            size=size,
            tlp=tlp.value,
            tlp_colour=tlp_table()[tlp].colour,
            labels=labels,
            when=when,
            plain_text=lambda html: bidi(plain_text(html)),
            public_reason=public_reason,
            deadlines=sla(incident, now),
            generated=when(now),
            zone=zone,
        )
    )


def render_report(
    incident: Incident,
    *,
    events: Sequence[EventView],
    observables: Sequence[IncidentObservable],
    attachments: Sequence[Attachment] = (),
    origins: Mapping[int, Origin],
    tasks: Sequence[IncidentTask],
    staff: bool,
    locale: str,
    zone: str,
    now: dt.datetime,
) -> bytes:
    """The PDF bytes of the incident report."""
    html = report_html(
        incident, events=events, observables=observables, attachments=attachments,
        origins=origins, tasks=tasks,
        staff=staff, locale=locale, zone=zone, now=now,
    )  # fmt: skip
    from weasyprint import HTML  # type: ignore[import-untyped]  # 1 s: see cert.warm

    pdf: bytes = HTML(string=html, url_fetcher=_no_fetch).write_pdf()
    return pdf
