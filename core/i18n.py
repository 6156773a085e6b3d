"""Translations outside requests (kernel, Flask-free): e-mails and jobs render in the recipient's
language from the same Babel catalogues as the web UI (``core/translations``)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_datetime
from babel.support import NullTranslations, Translations

from core.errors import Message

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
LOCALES = ("fr", "en", "ar")
DEFAULT_LOCALE = "fr"
DEFAULT_TIMEZONE = (
    "Africa/Casablanca"  # of dates shown to people unless CERT_TIMEZONE says otherwise
)
RTL_LOCALES = frozenset({"ar"})


def N_(message: str, **params: Any) -> Message:  # noqa: N802 — gettext's "mark, translate later"
    """Mark ``message`` for extraction (``make messages``); pages translate it with ``gettext``
    when they show it (the reasons of a service's ``ValidationFailed``, for instance), then fill
    its ``%(name)s`` placeholders from ``params`` (see :func:`localise`)."""
    return Message(message, **params)


def localise(text: str, gettext: Callable[[str], str]) -> str:
    """``text`` in the language of ``gettext``: a :class:`~core.errors.Message` by its msgid,
    its params filled (params that are messages translated too); other text looked up as is
    (a plain ``N_`` constant, or text that has no translation and stays as it is)."""
    if not isinstance(text, Message):
        return gettext(text) if text else text
    params = {
        k: localise(v, gettext) if isinstance(v, str) and isinstance(v, Message) else v
        for k, v in text.params.items()
    }
    translated = gettext(text.msgid)
    return translated % params if params else translated


def normalise_locale(locale: str | None) -> str:
    return locale if locale in LOCALES else DEFAULT_LOCALE


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue of ``locale`` (English source strings when it has none)."""
    return Translations.load(str(TRANSLATIONS_DIR), [normalise_locale(locale)], domain="messages")


@functools.cache
def mail_environment(package: str, locale: str) -> jinja2.Environment:
    """A Jinja environment for ``<package>/templates`` with ``locale``'s gettext installed.

    One environment per (package, locale), so that concurrent renders never share translations.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["datetime"] = functools.partial(local_datetime, locale=locale)
    return env


def local_datetime(value: dt.datetime | str, timezone: str, *, locale: str) -> str:
    """A date and time (or its ISO 8601 text, as a template context in JSON keeps it) in
    ``locale``'s medium format and ``timezone``: the ``datetime`` filter of mail templates,
    ``{{ acknowledge_by|datetime(timezone) }}``."""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_datetime(moment, "medium", tzinfo=ZoneInfo(timezone), locale=locale)


def render_mail(package: str, name: str, locale: str, **context: object) -> tuple[str, str, str]:
    """Render ``<name>.subject.txt``, ``<name>.txt`` and ``<name>.html`` → (subject, text, html)."""
    locale = normalise_locale(locale)
    env = mail_environment(package, locale)
    context = {"locale": locale, "rtl": locale in RTL_LOCALES, **context}
    subject = env.get_template(f"{name}.subject.txt").render(context)
    text = env.get_template(f"{name}.txt").render(context)
    html = env.get_template(f"{name}.html").render(context)
    return " ".join(subject.split()), text, html
