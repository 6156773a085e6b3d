"""The forms of the incident file and of the reporter's answer (Flask-WTF).

Each form has a ``prefix`` so that several of them live on one page with distinct field names
and ids. Forms only check the shape of the input (required, length, one of the choices); the
rules are the services' (``incidents.workspace.workflow``, ``incidents.workspace.conversation``…),
whose ``ValidationFailed.fields`` land next to the field concerned through
:meth:`FileForm.show_errors`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from core.identity.centres import Centre
from core.identity.models import Organisation, User
from core.markings import Pap, Tlp
from core.web import say
from incidents.models import TRANSITIONS, IncidentStatus
from incidents.observables.extraction import ObservableType
from incidents.rules import labels
from incidents.rules.priority import Priority

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
BODY_MAX = 20_000
TEXT = {"dir": "auto"}


class FileForm(FlaskForm):  # type: ignore[misc]
    """A form of the incident file; ``FIELDS`` maps service field names to form fields."""

    FIELDS: ClassVar[Mapping[str, str]] = {}
    form_errors: list[str]
    failed_at: str | None = None  # the place of the page whose action this form failed

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Attach each service error to its field, in the page's language (see
        ``core.errors.Message``); the others to the form as a whole."""
        general = list(self.form_errors)
        for name, detail in errors.items():
            target = self.FIELDS.get(name, name)
            message = say(detail)
            if target in self and target != "csrf_token":
                self[target].errors = [*self[target].errors, message]
            else:
                general.append(message)
        self.form_errors = general

    def prepare(self, *, status: str, staff: Sequence[User]) -> None:
        """Fill the choices that depend on the incident or on the staff (none by default)."""

    @property
    def has_errors(self) -> bool:
        return bool(self.form_errors) or any(field.errors for field in self)


def _staff_choices(staff: Iterable[User], blank: str) -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [SelectChoice(str(u.id), u.name) for u in staff]


class StatusForm(FileForm):
    FIELDS: ClassVar[Mapping[str, str]] = {"status": "to", "assignee": "owner"}

    to = SelectField(_l("New status"), validators=[InputRequired()], validate_choice=True)
    resolution = TextAreaField(
        _l("Resolution summary"),
        validators=[Optional(), Length(max=BODY_MAX)],
        render_kw={"rows": 3, **TEXT},
        description=_l("Required when resolving: what was found and done."),
    )
    reason = StringField(
        _l("Reason"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"maxlength": 2000, **TEXT},
        description=_l("Required to reject or mark as duplicate: the reporter reads it."),
    )
    duplicate_of = StringField(
        _l("Original incident"),
        validators=[Optional(), Length(max=32)],
        render_kw={"maxlength": 32, "dir": "ltr", "placeholder": "MACERT-…"},
        description=_l("When marking as duplicate: the reference of the incident it repeats."),
    )
    owner = SelectField(
        _l("Owner"),
        default="",
        validate_choice=True,
        description=_l("The incident has no assignee: choose who owns it to resolve it."),
    )

    def prepare(self, *, status: str, staff: Sequence[User]) -> None:
        # workflow order, so that the next usual step (e.g. triaged after new) comes first
        allowed = [s for s in IncidentStatus if s in TRANSITIONS.get(IncidentStatus(status), ())]
        self.to.choices = [SelectChoice(s.value, _(labels.STATUSES[s])) for s in allowed]
        self.owner.choices = _staff_choices(staff, _("Choose an owner"))


class AssignForm(FileForm):
    assignee = SelectField(_l("Assignee"), validate_choice=True)

    def prepare(self, *, status: str, staff: Sequence[User]) -> None:
        self.assignee.choices = _staff_choices(staff, _("Nobody"))


class PriorityForm(FileForm):
    priority = SelectField(
        _l("Priority"),
        choices=[SelectChoice(p.value, p.value) for p in Priority],
        validators=[InputRequired()],
    )
    reason = StringField(
        _l("Reason for the change"),
        validators=[DataRequired(), Length(max=2000)],
        render_kw={"required": True, "maxlength": 2000, **TEXT},
    )


class ClassificationForm(FileForm):
    FIELDS: ClassVar[Mapping[str, str]] = {"category": "classification", "type": "classification"}

    classification = SelectField(_l("RSIT classification"), validators=[InputRequired()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.classification.choices = [
            SelectChoice(c.value, _(c.name), optgroup=_(group.name))
            for group in labels.classification_groups(include_test=True)
            for c in group.choices
        ]

    def show(self, category: str, rsit_type: str | None) -> None:
        """Select the incident's classification; when it has none of the choices (a class
        without a type), a blank first choice says so instead of showing the first type."""
        self.classification.data = f"{category}/{rsit_type or ''}"
        if all(choice.value != self.classification.data for choice in self.classification.choices):
            blank = SelectChoice("", _("— choose a type —"))
            self.classification.choices = [blank, *self.classification.choices]
            self.classification.data = ""

    def parsed(self) -> tuple[str, str | None]:
        category, _sep, rsit_type = str(self.classification.data or "").partition("/")
        return category, rsit_type or None


class MarkingsForm(FileForm):
    tlp = SelectField("TLP", choices=[SelectChoice(t.value, t.value) for t in Tlp])
    pap = SelectField("PAP", choices=[SelectChoice(p.value, p.value) for p in Pap])


class BodyForm(FileForm):
    """A comment, a reply to the reporter or the reporter's answer."""

    FIELDS: ClassVar[Mapping[str, str]] = {"to": "body"}

    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(), Length(max=BODY_MAX)],
        render_kw={"required": True, "maxlength": BODY_MAX, "rows": 4, **TEXT},
        description=_l("Markdown: **bold**, _italic_, - lists, `code`, [link](https://…)."),
    )


class ParticipantForm(FileForm):
    user = SelectField(_l("Analyst"), validators=[InputRequired()])

    def prepare(self, *, status: str, staff: Sequence[User]) -> None:
        self.user.choices = _staff_choices(staff, _("Choose an analyst"))


class ObservableForm(FileForm):
    type = SelectField(_l("Type"), choices=[SelectChoice(t.value, t.value) for t in ObservableType])
    value = StringField(
        _l("Value"),
        validators=[DataRequired(), Length(max=2048)],
        render_kw={"required": True, "maxlength": 2048, "dir": "ltr"},
    )


class TaskForm(FileForm):
    title = StringField(
        _l("Task"),
        validators=[DataRequired(), Length(max=300)],
        render_kw={"required": True, "maxlength": 300, **TEXT},
    )
    assignee = SelectField(_l("Assignee"))
    due_at = StringField(_l("Due"), render_kw={"type": "datetime-local"})

    def prepare(self, *, status: str, staff: Sequence[User]) -> None:
        self.assignee.choices = _staff_choices(staff, _("Nobody"))

    def validate_due_at(self, field: StringField) -> None:
        if _local(field.data) is None and (field.data or "").strip():
            raise ValidationError(_("Enter a date and a time, e.g. 2026-03-01 08:30."))

    def due(self, timezone: str) -> dt.datetime | None:
        """The due date read in the configured time zone (``None`` when left empty)."""
        return _local(self.due_at.data, ZoneInfo(timezone))


def _local(raw: str | None, zone: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """A ``datetime-local`` value in ``zone``; ``None`` when empty or invalid."""
    try:
        return dt.datetime.strptime((raw or "").strip()[:16], DATETIME_LOCAL).replace(tzinfo=zone)
    except ValueError:
        return None


class ReferenceForm(FileForm):
    """Another incident, by reference: to link, or to merge this one into."""

    FIELDS: ClassVar[Mapping[str, str]] = {"into": "reference", "status": "reference"}

    reference = StringField(
        _l("Reference"),
        validators=[DataRequired(), Length(max=32)],
        render_kw={"required": True, "maxlength": 32, "dir": "ltr", "placeholder": "MACERT-…"},
    )


class MergeForm(ReferenceForm):
    """The incident to merge this one into; across organisations, the lead ticks a box naming
    both (its value, the two slugs, becomes ``confirm_organisations``)."""

    FIELDS: ClassVar[Mapping[str, str]] = {
        **ReferenceForm.FIELDS,
        "confirm_organisations": "confirm",
    }
    organisations: tuple[Organisation, Organisation] | None = None  # (this one's, the survivor's)

    confirm = StringField(_l("Confirmation"), validators=[Optional(), Length(max=200)])

    def confirmed(self) -> list[str] | None:
        return (self.confirm.data or "").split() or None


class CentreForm(FileForm):
    """A form naming another vigilance centre (transfer, share): its choices are every centre
    but the incident's own, by name in the page's language (:meth:`offer`)."""

    centre = SelectField(_l("Centre"), validators=[InputRequired()])
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=2000)],
        render_kw={"required": True, "maxlength": 2000, **TEXT},
    )

    def offer(self, centres: Iterable[Centre], own_id: int, *, arabic: bool) -> None:
        named = [
            SelectChoice(c.slug, c.display_name("ar" if arabic else "fr"))
            for c in centres
            if c.id != own_id
        ]
        self.centre.choices = [SelectChoice("", _("Choose a centre")), *named]


class TransferForm(CentreForm):
    pass


class ShareForm(CentreForm):
    mode = SelectField(
        _l("Share mode"),
        choices=[
            SelectChoice(m, lazy)
            for m, lazy in (("read", _l("read only")), ("work", _l("read and work")))
        ],
        validators=[InputRequired()],
        description=_l("Read and work: its members act on the incident as on their own."),
    )
