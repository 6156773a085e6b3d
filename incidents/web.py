"""Helpers shared by the slice's pages (adapters): the settings of the running app, times in the
CERT's zone, file sizes and marking badges in the page's language. The ``incidents`` blueprint's
templates get them through its context processor; the other pages pass them explicitly."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from babel.units import format_unit
from flask import current_app
from flask_babel import get_locale

from core.markings import Pap, Tlp, css_class
from core.web.times import local_time as local_time  # every page's dates, in CERT_TIMEZONE
from core.web.times import timezone_name as timezone_name
from incidents.blueprints import pages
from incidents.rules import labels
from incidents.settings import IntakeSettings


def intake() -> IntakeSettings:
    settings: IntakeSettings = current_app.extensions["incidents"]
    return settings


def in_zone(value: dt.datetime) -> dt.datetime:
    return value.astimezone(ZoneInfo(intake().timezone))


def file_size(size: int) -> str:
    """``20 Mo``, ``350 KB``, ``12 بايت``… in the page's language."""
    locale = str(get_locale())
    for unit, factor in (("digital-megabyte", 1024**2), ("digital-kilobyte", 1024)):
        if size >= factor:
            return format_unit(round(size / factor, 1), unit, "short", locale=locale)
    return format_unit(size, "digital-byte", "short", locale=locale)


def marking_class(label: str) -> str:
    """``tlp-amber``, ``pap-red``…: the badge colours of a TLP or PAP label."""
    return css_class(Tlp(label) if label.startswith("TLP:") else Pap(label))


@pages.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "labels": labels,
        "local_time": local_time,
        "timezone_name": timezone_name,
        "file_size": file_size,
        "marking_class": marking_class,
    }
