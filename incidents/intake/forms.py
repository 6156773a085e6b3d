"""The incident report form: fields and HTML hints (Flask-WTF), then an ``IncidentSubmission``.

The form holds the user's input and renders browser-side checks (``required``, ``maxlength``…);
the rules themselves are those of :class:`incidents.intake.schemas.IncidentSubmission` and of
``submit_incident``, whose errors are shown next to the field they concern.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError
from wtforms import (
    BooleanField,
    EmailField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)

from core import inputs
from core.errors import reason_of
from core.identity.models import Organisation, User
from core.markings import DEFAULT_PAP, DEFAULT_TLP, Pap, Tlp
from core.web import say
from incidents.intake.schemas import IncidentSubmission
from incidents.models import ReporterState
from incidents.rules.priority import Level

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
PHONE_PATTERN = r"[0-9+\(\)\.\s\-]{4,40}"  # the schema's rule, written for the `v` regex flag
LEVEL_CHOICES = [SelectChoice(level.value, level.value) for level in Level]
NUMBER = {"type": "number", "min": 0, "step": 1, "inputmode": "numeric"}


class IncidentForm(FlaskForm):  # type: ignore[misc]
    form_errors: list[str]  # set by wtforms; errors that concern no single field

    organisation = SelectField(_l("Organisation concerned"), validate_choice=False)
    title = StringField(
        _l("Title"),
        render_kw={"required": True, "minlength": 3, "maxlength": 300, "dir": "auto"},
        description=_l("A short summary, e.g. “Suspicious e-mails asking for webmail passwords”."),
    )
    description = TextAreaField(
        _l("What happened?"),
        render_kw={"required": True, "maxlength": 50_000, "rows": 7, "dir": "auto"},
        description=_l(
            "What you saw, when and where; copy suspicious addresses, links or file names as they "
            "are: the CERT extracts them automatically."
        ),
    )
    classification = RadioField(_l("Kind of incident"), validate_choice=False)
    impact = RadioField(_l("Impact"), choices=LEVEL_CHOICES, default=Level.MEDIUM.value)
    urgency = RadioField(_l("Urgency"), choices=LEVEL_CHOICES, default=Level.MEDIUM.value)
    detected_at = StringField(
        _l("Detected on"),
        render_kw={"type": "datetime-local"},
        description=_l("When your organisation noticed the incident (local time)."),
    )
    reporter_state = RadioField(
        _l("Situation now"), choices=[SelectChoice(s.value, s.value) for s in ReporterState]
    )
    affected_assets = TextAreaField(
        _l("Affected systems and services"),
        render_kw={"rows": 4, "dir": "auto"},
        description=_l("One per line: server names, addresses, websites, sites or offices."),
    )
    users_affected = StringField(_l("Number of users affected"), render_kw=NUMBER)
    systems_affected = StringField(_l("Number of systems affected"), render_kw=NUMBER)
    actions_taken = TextAreaField(
        _l("Actions already taken"),
        render_kw={"rows": 3, "maxlength": 20_000, "dir": "auto"},
        description=_l("E.g. machine disconnected, password changed, provider called."),
    )
    tlp = RadioField(_l("Who may the CERT share this report with?"), default=DEFAULT_TLP.value)
    pap = RadioField(_l("What may be done with the indicators?"), default=DEFAULT_PAP.value)
    significant = BooleanField(_l("This is a significant incident"))
    contact_name = StringField(
        _l("Name"), render_kw={"maxlength": 200, "autocomplete": "name", "dir": "auto"}
    )
    contact_phone = TelField(
        _l("Phone"),
        render_kw={"pattern": PHONE_PATTERN, "maxlength": 40, "autocomplete": "tel", "dir": "ltr"},
    )
    contact_email = EmailField(
        _l("E-mail address"),
        render_kw={"maxlength": 254, "autocomplete": "email", "dir": "ltr"},
    )
    attachments = MultipleFileField(_l("Attachments"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tlp.choices = [SelectChoice(t.value, t.value) for t in Tlp]
        self.pap.choices = [SelectChoice(p.value, p.value) for p in Pap]

    def prepare(
        self, user: User, organisations: list[Organisation] | None, *, latest: dt.datetime
    ) -> None:
        """Staff choose the organisation; reporters report for their own (no field). A new
        form starts with the user as contact; ``latest`` (local time) bounds the detection."""
        self.detected_at.render_kw = {
            "type": "datetime-local",
            "max": latest.strftime(DATETIME_LOCAL),
        }
        if organisations is None:
            del self.organisation
        else:
            blank = [SelectChoice("", _("Choose the organisation"))]
            self.organisation.choices = blank + [
                SelectChoice(o.slug, o.name) for o in organisations
            ]
            self.organisation.render_kw = {"required": True}
        if organisations is None and not self.is_submitted():  # staff record someone else
            self.contact_name.data = user.name
            self.contact_email.data = user.email

    def submission(self, *, timezone: str, now: dt.datetime) -> IncidentSubmission | None:
        """The validated submission, or ``None`` with the errors attached to the fields."""
        data, errors = self._data(ZoneInfo(timezone), now)
        try:
            submission = IncidentSubmission.model_validate(data, context={"now": now})
        except ValidationError as exc:
            errors.update(pydantic_errors(exc))
            submission = None
        self.show_errors(errors)
        return None if errors else submission

    def _data(self, zone: ZoneInfo, now: dt.datetime) -> tuple[dict[str, Any], dict[str, str]]:
        errors: dict[str, str] = {}
        category, _sep, rsit_type = (self.classification.data or "").partition("/")
        contact = {
            "name": self.contact_name.data,
            "phone": self.contact_phone.data,
            "email": self.contact_email.data,
        }
        data: dict[str, Any] = {
            "title": self.title.data,
            "description": self.description.data,
            "category": category,
            "type": rsit_type,
            "impact": self.impact.data,
            "urgency": self.urgency.data,
            "tlp": self.tlp.data,
            "pap": self.pap.data,
            "significant": bool(self.significant.data),
            "reporter_state": self.reporter_state.data,
            "affected_assets": _lines(self.affected_assets.data),
            "users_affected": self.users_affected.data,
            "systems_affected": self.systems_affected.data,
            "actions_taken": self.actions_taken.data,
            "contact": _filled(contact) or None,
            "detected_at": _detected_at(self.detected_at.data, zone, now, errors),
        }
        if "organisation" in self:
            data["organisation"] = self.organisation.data
        return _filled(data), errors

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Attach each error to its field; the others to the form as a whole."""
        general: list[str] = list(self.form_errors)
        for name, message in errors.items():
            target = FIELDS.get(name, name)
            if target in self and target != "csrf_token":
                self[target].errors = [*self[target].errors, message]
            else:
                general.append(message)
        self.form_errors = general

    def error_list(self) -> list[tuple[str, str, str]]:
        """(field id, label, message) of every field error, for the summary above the form."""
        return [
            (field.id, str(field.label.text), message) for field in self for message in field.errors
        ]


# schema field (or service field name) → form field
FIELDS = {
    "category": "classification",
    "type": "classification",
    "contact.name": "contact_name",
    "contact.phone": "contact_phone",
    "contact.email": "contact_email",
    "file": "attachments",
}


def _filled(data: Mapping[str, Any]) -> dict[str, Any]:
    """Drop blank values, so that pydantic applies defaults or says "missing"."""
    return {
        k: v.strip() if isinstance(v, str) else v for k, v in data.items() if _blank(v) is False
    }


def _lines(text: str | None) -> list[str]:
    return [line for line in (text or "").splitlines() if line.strip()]


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _detected_at(
    raw: str | None, zone: ZoneInfo, now: dt.datetime, errors: dict[str, str]
) -> dt.datetime | None:
    """A ``datetime-local`` value read in the configured time zone; not in the future."""
    if _blank(raw):
        return None
    try:
        value = dt.datetime.strptime(str(raw).strip()[:16], DATETIME_LOCAL).replace(tzinfo=zone)
    except ValueError:
        errors["detected_at"] = _("Enter a date and a time, e.g. 2026-03-01 08:30.")
        return None
    if value > now + inputs.CLOCK_SKEW:  # the API's rule (core.inputs.past_instant)
        errors["detected_at"] = _("The date cannot be in the future.")
        return None
    return value


def pydantic_errors(exc: ValidationError) -> dict[str, str]:
    """Translated messages keyed by schema field (``contact.email``, ``affected_assets``…)."""
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        name = ".".join(loc[:2]) if loc and loc[0] == "contact" else (loc[0] if loc else "")
        message = error_message(error["type"], error.get("ctx") or {}, error["msg"])
        if name == "affected_assets" and len(loc) > 1 and loc[1].isdigit():
            message = _("Line %(line)s: %(message)s", line=int(loc[1]) + 1, message=message)
        errors.setdefault(name, message)
    return errors


ERROR_MESSAGES = {  # pydantic error type → (message, the ``ctx`` entry shown as ``n``)
    "missing": (_l("This field is required."), ""),
    "string_too_short": (_l("Too short: at least %(n)s characters."), "min_length"),
    "string_too_long": (_l("Too long: at most %(n)s characters."), "max_length"),
    "too_long": (_l("Too many lines: at most %(n)s."), "max_length"),
    "int_parsing": (_l("Enter a whole number."), ""),
    "int_from_float": (_l("Enter a whole number."), ""),
    "greater_than_equal": (_l("Enter %(n)s or more."), "ge"),
    "less_than_equal": (_l("Enter at most %(n)s."), "le"),
    "string_pattern_mismatch": (_l("Use only digits, spaces and the signs + ( ) . -"), ""),
    "enum": (_l("Choose one of the options offered."), ""),
}


def error_message(kind: str, ctx: Mapping[str, Any], detail: str) -> str:
    """A translated message for a pydantic error type; else a generic one with the detail."""
    if kind in ERROR_MESSAGES:
        message, key = ERROR_MESSAGES[kind]
        return str(message) % {"n": ctx.get(key)}
    if kind == "value_error" and isinstance(ctx.get("error"), ValueError):
        return say(reason_of(ctx["error"]))  # a rule's reason (core.errors.Message), translated
    if "email" in detail:
        return str(_("Enter a valid e-mail address, e.g. name@ministry.gov.ma."))
    detail = detail.removeprefix("Value error, ")
    return str(_("This value is not valid: %(detail)s", detail=detail))
