"""Forms of the vigilance centres' administration pages (Flask-WTF: every form carries a CSRF
token). Their fields are named as the services name what is wrong
(:mod:`core.auth.centre_admin`, :mod:`core.auth.centre_members`), so that
:func:`cert.accounts.admin_forms.show_errors` puts each reason under its field; the choices
that come from the database (organisations, people) are filled in by the views."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from cert.accounts.admin_forms import name_fields
from core.identity.centres import DEFAULT_TIMEZONE, DEFAULT_WORKING_HOURS, Centre

DAY_LABELS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
LOCAL_MOMENT = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">


class Checkboxes(SelectMultipleField):  # type: ignore[misc]
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def words(text: str | None) -> list[str]:
    """A list typed in one field: separated by commas, semicolons or new lines."""
    raw = (text or "").replace(";", ",").replace("\n", ",")
    return [w.strip() for w in raw.split(",") if w.strip()]


def _days() -> list[SelectChoice]:
    return [SelectChoice(i, label) for i, label in enumerate(DAY_LABELS)]


class CentreForm(FlaskForm):  # type: ignore[misc]
    """A centre's description and constituency; ``slug`` only when creating one."""

    slug = StringField(
        _l("Identifier"),
        validators=[DataRequired(), Length(max=64)],
        description=_l(
            "Lower-case letters, digits and dashes, e.g. sante. It never changes: the queue, "
            "the API and the command line use it."
        ),
        render_kw={"dir": "ltr", "autocomplete": "off"},
    )
    name, name_ar = name_fields()
    contact_email = EmailField(
        _l("Contact e-mail address"),
        validators=[Length(max=254)],
        render_kw={"dir": "ltr", "autocomplete": "off"},
    )
    organisations = SelectMultipleField(
        _l("Organisations"),
        coerce=str,
        validate_choice=False,  # the service names an unknown one
        description=_l("The constituents it answers for by name (the most specific rule)."),
        render_kw={"size": 6},
    )
    sectors = StringField(
        _l("Sectors"),
        validators=[Length(max=3000)],
        description=_l("Separated by commas, as the organisations spell them: health, finance…"),
        render_kw={"dir": "ltr", "list": "sectors", "autocomplete": "off"},
    )
    regions = StringField(
        _l("Regions"),
        validators=[Length(max=3000)],
        description=_l("Separated by commas, as the organisations spell them."),
        render_kw={"dir": "ltr", "list": "regions", "autocomplete": "off"},
    )
    categories = Checkboxes(
        _l("Incident classes it specialises in"),
        coerce=str,
        validate_choice=False,
        description=_l("None: every class. With classes, it takes only incidents of these."),
    )
    timezone = StringField(
        _l("Time zone"),
        validators=[DataRequired(), Length(max=64)],
        default=DEFAULT_TIMEZONE,
        description=_l("Of its working hours and rota, e.g. Africa/Casablanca."),
        render_kw={"dir": "ltr", "list": "timezones", "autocomplete": "off"},
    )
    working_hours = Checkboxes(
        _l("Working days"), coerce=int, choices=_days, default=DEFAULT_WORKING_HOURS["days"]
    )
    start = StringField(
        _l("Opens at"),
        validators=[InputRequired(), Length(max=5)],
        default=DEFAULT_WORKING_HOURS["start"],
        render_kw={"type": "time", "dir": "ltr"},
    )
    end = StringField(
        _l("Closes at"),
        validators=[InputRequired(), Length(max=5)],
        default=DEFAULT_WORKING_HOURS["end"],
        render_kw={"type": "time", "dir": "ltr"},
    )
    submit = SubmitField(_l("Save"))

    @classmethod
    def of(cls, centre: Centre, organisations: list[str]) -> CentreForm:
        """The form filled in with what ``centre`` has (GET of its page)."""
        hours = centre.working_hours or {}
        form = cls(
            formdata=None,
            slug=centre.slug,
            name=centre.name,
            name_ar=centre.name_ar,
            contact_email=centre.contact_email,
            organisations=organisations,
            sectors=", ".join(centre.sectors or ()),
            regions=", ".join(centre.regions or ()),
            categories=list(centre.categories or ()),
            timezone=centre.timezone,
            working_hours=list(hours.get("days", [])),
            start=hours.get("start", ""),
            end=hours.get("end", ""),
        )
        return form

    def values(self) -> dict[str, Any]:
        """What the services take (``create_centre`` and ``update_centre``), but the slug."""
        return {
            "name": self.name.data or "",
            "name_ar": self.name_ar.data,
            "contact_email": self.contact_email.data,
            "organisations": list(self.organisations.data or ()),
            "sectors": words(self.sectors.data),
            "regions": words(self.regions.data),
            "categories": list(self.categories.data or ()),
            "timezone": self.timezone.data or "",
            "working_hours": {
                "days": list(self.working_hours.data or ()),
                "start": (self.start.data or "").strip(),
                "end": (self.end.data or "").strip(),
            },
        }


class MemberForm(FlaskForm):  # type: ignore[misc]
    """A CERT user joins the centre (the choices: active staff not in it yet)."""

    user = SelectField(_l("Person"), coerce=int, validate_choice=False)
    on_duty = BooleanField(_l("On standing duty"))
    submit = SubmitField(_l("Add to the centre"))


class ShiftForm(FlaskForm):  # type: ignore[misc]
    """A shift of the rota, in the centre's local time (the choices: its members)."""

    user = SelectField(_l("Member"), coerce=int, validate_choice=False)
    starts_at = DateTimeLocalField(
        _l("From"), format=LOCAL_MOMENT, validators=[InputRequired()], render_kw={"dir": "ltr"}
    )
    ends_at = DateTimeLocalField(
        _l("To"), format=LOCAL_MOMENT, validators=[InputRequired()], render_kw={"dir": "ltr"}
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Add the shift"))


class DutyForm(FlaskForm):  # type: ignore[misc]
    """Standing duty on or off for one member (the button says which)."""

    on = BooleanField()
