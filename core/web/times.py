"""Dates and times on the pages: in the CERT's time zone (``CERT_TIMEZONE``), in the page's
language, and the zone's name where a reader needs it ("Casablanca time"). Every page uses these
(``local_time`` and ``timezone_name`` in templates; the ``when`` macro of ``macros.html``), so an
account page, the audit log and an incident file show the same moment the same way."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format, get_timezone_location
from flask import Flask, current_app
from flask_babel import get_locale
from flask_babel import gettext as _


def zone() -> ZoneInfo:
    """The configured zone (``CERT_TIMEZONE``, which the web kit gives Flask-Babel)."""
    return ZoneInfo(str(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def local_time(value: dt.datetime | None) -> str:
    """Date and time in the configured time zone, in the page's language (no seconds)."""
    if value is None:
        return "—"
    locale, local = str(get_locale()), value.astimezone(zone())
    date = format_date(local, "medium", locale=locale)
    time = format_time(local, "short", locale=locale)
    pattern = str(get_datetime_format("medium", locale=locale))
    return pattern.replace("{1}", date).replace("{0}", time)


def timezone_name() -> str:
    """``heure de Casablanca``, ``توقيت الدار البيضاء``…: the configured zone, by its city."""
    city = get_timezone_location(zone(), locale=str(get_locale()), return_city=True)
    return str(_("%(city)s time", city=city))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(local_time=local_time, timezone_name=timezone_name)
