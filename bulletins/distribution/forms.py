"""The forms of the distribution pages (Flask-WTF): CSRF and the shape of the input; the rules
of each value are :mod:`bulletins.distribution.services`', whose reasons the pages show under
the fields."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

LIST_FIELDS = {n: n for n in ("slug", "name", "kind", "organisation", "sector", "centre",
                              "digest", "language")}  # fmt: skip
MEMBER_FIELDS = {n: n for n in ("email", "name", "language", "organisation")}


LANGUAGE_CHOICES = [("fr", "Français"), ("en", "English"), ("ar", "العربية")]


def _language(label: object) -> SelectField:
    return SelectField(label, validate_choice=False)


class ListForm(FlaskForm):  # type: ignore[misc]
    slug = StringField(_l("Identifier"), validators=[Length(max=64)],
                       description=_l("lower-case letters, digits and dashes"))  # fmt: skip
    name = StringField(_l("Name"), validators=[Length(max=200)])
    kind = SelectField(_l("Kind"), validate_choice=False)
    organisation = SelectField(_l("Organisation (organisation lists)"), validate_choice=False)
    sector = SelectField(_l("Sector (sector lists)"), validate_choice=False)
    centre = SelectField(_l("Vigilance centre (centre lists)"), validate_choice=False)
    digest = SelectField(_l("Digest"), validate_choice=False)
    language = _language(_l("Language of recipients who have none"))

    def fill(
        self,
        organisations: list[tuple[str, str]],
        sectors: list[str],
        centres: list[tuple[str, str]],
    ) -> None:
        self.kind.choices = [
            ("organisation", _("An organisation's contacts")),
            ("sector", _("Every constituent of a sector")),
            ("all", _("Every administration")),
            ("centre", _("A vigilance centre's constituency")),
            ("named", _("Named individuals")),
        ]
        self.organisation.choices = [("", "—"), *organisations]
        self.sector.choices = [("", "—"), *((s, s) for s in sectors)]
        self.centre.choices = [("", "—"), *centres]
        self.digest.choices = digest_choices()
        self.language.choices = list(LANGUAGE_CHOICES)


def digest_choices() -> list[tuple[str, str]]:
    return [("none", _("None: bulletins as published")), ("daily", _("Daily")),
            ("weekly", _("Weekly"))]  # fmt: skip


class SettingsForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[Length(max=200)])
    digest = SelectField(_l("Digest"), validate_choice=False)
    language = _language(_l("Language of recipients who have none"))

    def fill(self) -> None:
        self.digest.choices = digest_choices()
        self.language.choices = list(LANGUAGE_CHOICES)


class MemberForm(FlaskForm):  # type: ignore[misc]
    email = StringField(_l("E-mail address"), validators=[Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    language = _language(_l("Language"))
    organisation = SelectField(_l("Organisation"), validate_choice=False)

    def fill(self, organisations: list[tuple[str, str]]) -> None:
        self.language.choices = [("", "—"), *LANGUAGE_CHOICES]
        self.organisation.choices = [("", "—"), *organisations]


class RemoveForm(FlaskForm):  # type: ignore[misc]
    email = HiddenField()


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something (CSRF only)."""


class PublishForm(FlaskForm):  # type: ignore[misc]
    change = TextAreaField(_l("What this revision changes"), validators=[Length(max=500)])
