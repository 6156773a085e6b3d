"""PDF incident report through WeasyPrint (Flask-free): French, English or Arabic (right to left).

Two versions from one template:
* **staff**: every field, the full timeline (internal comments included), tasks, assignee, every
  observable with the incident a merge brought it from;
* **reporter**: what the status page shows — public timeline only, no assignee, no internal
  priority reason, no tasks, only the observables of the reporting organisation
  (:func:`incidents.origins.reported_observables`).

Events come as :class:`incidents.named.EventView` (references the reader may not see left out).

The TLP label sits at the top right of every page in the official TLP 2.0 colours (coloured text
on black, ``core/data/tlp.json``). The page renders offline: WeasyPrint may fetch nothing
(every URL is refused), fonts are the system's (DejaVu Sans covers Latin and Arabic; Pango shapes
the Arabic text).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import nh3
from babel.dates import format_datetime
from weasyprint import HTML  # type: ignore[import-untyped]

from core.i18n import RTL_LOCALES, mail_environment, normalise_locale
from core.markings import tlp_table
from incidents.models import Incident, IncidentObservable, IncidentTask
from incidents.named import EventView
from incidents.origins import Origin
from incidents.rules import labels
from incidents.rules.sla import sla
from incidents.workspace.workflow import public_reason

TEMPLATE = "incidents/report/report.html"


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

    def when(value: dt.datetime | None) -> str:
        if value is None:
            return "—"
        return format_datetime(value.astimezone(tz), "medium", tzinfo=tz, locale=locale)

    tlp = incident.tlp
    return (
        mail_environment("incidents", locale)
        .get_template(TEMPLATE)
        .render(
            incident=incident,
            events=list(reversed(events)),  # oldest first in a report
            observables=observables,
            origins=origins if staff else {},
            tasks=tasks if staff else [],
            staff=staff,
            locale=locale,
            rtl=locale in RTL_LOCALES,
            tlp=tlp.value,
            tlp_colour=tlp_table()[tlp].colour,
            labels=labels,
            when=when,
            plain_text=plain_text,
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
    origins: Mapping[int, Origin],
    tasks: Sequence[IncidentTask],
    staff: bool,
    locale: str,
    zone: str,
    now: dt.datetime,
) -> bytes:
    """The PDF bytes of the incident report."""
    html = report_html(
        incident, events=events, observables=observables, origins=origins, tasks=tasks,
        staff=staff, locale=locale, zone=zone, now=now,
    )  # fmt: skip
    pdf: bytes = HTML(string=html, url_fetcher=_no_fetch).write_pdf()
    return pdf
