"""The lead's forms for triggers and schedules (Flask-WTF): CSRF and the shape of the input.
Choices are filled per request (labels in the reader's language); the rules of each value are
the services' (:mod:`playbooks.automation.services`), whose reasons the pages show under the
fields — the same words as the API and the command line, translated."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, Optional

from core.identity.centres import Centre
from core.identity.models import Organisation
from core.markings import Tlp
from incidents.models import IncidentStatus, Priority
from incidents.rules import labels
from incidents.rules.taxonomy import rsit_classes
from playbooks.automation.words import EVENTS
from playbooks.models import TriggerEvent

# form field → the services' field name (their errors are shown under the form's fields)
TRIGGER_FIELDS = {
    "event": "event",
    "categories": "conditions.categories",
    "types": "conditions.types",
    "min_priority": "conditions.min_priority",
    "tlp": "conditions.tlp",
    "organisation_ids": "conditions.organisation_ids",
    "sectors": "conditions.sectors",
    "centres": "conditions.centres",
    "statuses": "conditions.statuses",
    "enabled": "enabled",
}
SCHEDULE_FIELDS = {
    name: name for name in ("cron", "timezone", "organisation_ids", "centre", "enabled")
}


def _many(label: object) -> SelectMultipleField:
    return SelectMultipleField(label, validators=[Optional()], validate_choice=False)


class TriggerForm(FlaskForm):  # type: ignore[misc]
    event = SelectField(_l("When"), validate_choice=False)
    categories = _many(_l("RSIT classes"))
    types = _many(_l("RSIT types"))
    min_priority = SelectField(_l("Priority at least"), validate_choice=False)
    tlp = _many(_l("TLP"))
    organisation_ids = _many(_l("Organisations"))
    sectors = _many(_l("Sectors"))
    centres = _many(_l("Vigilance centres"))
    statuses = _many(_l("New status"))
    enabled = BooleanField(_l("Enabled"), default=True)

    def fill(
        self,
        organisations: list[Organisation],
        sectors: list[str],
        locale: str,
        centres: Sequence[Centre] = (),
    ) -> None:
        self.event.choices = [(e.value, _(EVENTS[e])) for e in TriggerEvent]
        self.categories.choices = [
            (c, _(labels.RSIT_CLASSES[c][0])) for c in rsit_classes() if c in labels.RSIT_CLASSES
        ]
        self.types.choices = [
            (t.id, _(labels.RSIT_TYPES[t.id][0]))
            for c in rsit_classes().values()
            for t in c.types
            if t.id in labels.RSIT_TYPES
        ]
        self.min_priority.choices = [("", "—")] + [
            (p.value, f"{p.value} — {_(labels.PRIORITY_LEVELS[p])}") for p in Priority
        ]
        self.tlp.choices = [(t.value, t.value) for t in Tlp]
        self.organisation_ids.choices = [(str(o.id), org_name(o, locale)) for o in organisations]
        self.sectors.choices = [(s, sector_name(s)) for s in sectors]
        self.centres.choices = [(c.slug, c.display_name(locale)) for c in centres]
        self.statuses.choices = [(s.value, _(labels.STATUSES[s])) for s in IncidentStatus]


class ScheduleForm(FlaskForm):  # type: ignore[misc]
    cron = StringField(
        _l("Cron expression"),
        validators=[Length(max=200)],
        render_kw={"dir": "ltr", "autocomplete": "off", "spellcheck": "false"},
        description=_l(
            "Five fields: minute hour day-of-month month weekday, e.g. 0 7 * * * (every day "
            "at 07:00) or 30 8 * * 1-5 (Monday to Friday at 08:30)."
        ),
    )
    timezone = StringField(
        _l("Time zone"),
        validators=[Length(max=64)],
        render_kw={"dir": "ltr", "autocomplete": "off"},
        description=_l("An IANA name, e.g. Africa/Casablanca; empty: the CERT's."),
    )
    organisation_ids = _many(_l("Organisations"))
    centre = SelectField(_l("Or a vigilance centre's constituency"), validate_choice=False)
    enabled = BooleanField(_l("Enabled"), default=True)

    def fill(
        self,
        organisations: list[Organisation],
        locale: str,
        centres: Sequence[Centre] = (),
    ) -> None:
        self.organisation_ids.choices = [(str(o.id), org_name(o, locale)) for o in organisations]
        self.centre.choices = [("", "—"), *((c.slug, c.display_name(locale)) for c in centres)]


class ActionForm(FlaskForm):  # type: ignore[misc]
    """Enable, disable, delete: a CSRF token only."""


def org_name(organisation: Organisation, locale: str) -> str:
    if locale == "ar" and organisation.name_ar:
        return organisation.name_ar
    return organisation.name


def sector_name(sector: str) -> str:
    known = labels.sector_label(sector)
    return _(known) if known else sector
