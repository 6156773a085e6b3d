"""The forms of the distribution pages (Flask-WTF): CSRF and the shape of the input; the rules
of each value are :mod:`bulletins.distribution.services`', whose reasons the pages show under
the fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

LIST_FIELDS = {n: n for n in ("slug", "name", "kind", "organisation", "sector", "digest",
                              "language")}  # fmt: skip
MEMBER_FIELDS = {n: n for n in ("email", "name", "language", "organisation")}


def _language(label: object, *, optional: bool) -> SelectField:
    choices = [("fr", "Français"), ("en", "English"), ("ar", "العربية")]
    return SelectField(label, choices=[("", "—"), *choices] if optional else choices,
                       validate_choice=False)  # fmt: skip


class ListForm(FlaskForm):  # type: ignore[misc]
    slug = StringField(_l("Identifier"), validators=[Length(max=64)],
                       description=_l("lower-case letters, digits and dashes"))  # fmt: skip
    name = StringField(_l("Name"), validators=[Length(max=200)])
    kind = SelectField(_l("Kind"), validate_choice=False, choices=[
        ("organisation", _l("An organisation's contacts")),
        ("sector", _l("Every constituent of a sector")),
        ("all", _l("Every administration")),
        ("named", _l("Named individuals"))])  # fmt: skip
    organisation = SelectField(_l("Organisation (organisation lists)"), validate_choice=False)
    sector = SelectField(_l("Sector (sector lists)"), validate_choice=False)
    digest = SelectField(_l("Digest"), validate_choice=False, choices=[
        ("none", _l("None: bulletins as published")), ("daily", _l("Daily")),
        ("weekly", _l("Weekly"))])  # fmt: skip
    language = _language(_l("Language of recipients who have none"), optional=False)


class SettingsForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[Length(max=200)])
    digest = ListForm.digest
    language = _language(_l("Language of recipients who have none"), optional=False)


class MemberForm(FlaskForm):  # type: ignore[misc]
    email = StringField(_l("E-mail address"), validators=[Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    language = _language(_l("Language"), optional=True)
    organisation = SelectField(_l("Organisation"), validate_choice=False)


class RemoveForm(FlaskForm):  # type: ignore[misc]
    email = HiddenField()


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something (CSRF only)."""


class PublishForm(FlaskForm):  # type: ignore[misc]
    change = TextAreaField(_l("What this revision changes"), validators=[Length(max=500)])
