"""Forms of the administration pages and of the password links (Flask-WTF: every form carries a
CSRF token). The choices that come from the database (organisations) are filled in by the views;
the rules themselves are the services' (:mod:`core.auth.services`,
:mod:`core.auth.organisations`), whose reasons the views put under the fields."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from flask import flash, redirect
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Field,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from core.errors import Conflict, DomainError, ValidationFailed
from core.i18n import LOCALES
from core.identity.models import AssetKind, Organisation, OrganisationKind, Role
from core.web import LANGUAGE_NAMES, unit_of_work
from core.web.auth import ORGANISATION_KIND_LABELS, ROLE_LABELS

PASSWORD_HELP = _l(
    "At least 12 characters; not a common password, nor the user's name or e-mail address."
)
ASSET_KIND_LABELS = {AssetKind.DOMAIN: _l("Domain name"), AssetKind.IP_RANGE: _l("IP range")}


def _languages() -> list[SelectChoice]:
    return [SelectChoice(code, LANGUAGE_NAMES[code], {"lang": code}) for code in LOCALES]


def _roles() -> list[SelectChoice]:
    return [SelectChoice(role.value, ROLE_LABELS[role]) for role in Role]


def _kinds() -> list[SelectChoice]:
    return [SelectChoice(kind.value, ORGANISATION_KIND_LABELS[kind]) for kind in OrganisationKind]


def _asset_kinds() -> list[SelectChoice]:
    return [SelectChoice(kind.value, label) for kind, label in ASSET_KIND_LABELS.items()]


class UserEditForm(FlaskForm):  # type: ignore[misc]
    """An account's name, role, organisation and language (the address never changes)."""

    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(
        _l("Role"),
        choices=_roles,
        description=_l(
            "Analysts, coordinators and administrators belong to an organisation of the CERT "
            "kind; reporters to the constituent they report for."
        ),
    )
    organisation = SelectField(_l("Organisation"), coerce=int, validate_choice=True)
    locale = SelectField(
        _l("Language"),
        choices=_languages,
        description=_l("Of the interface and of the e-mails the user receives."),
    )
    submit = SubmitField(_l("Save the changes"))

    def offer(self, organisations: Iterable[Organisation], *, arabic: bool) -> None:
        """The organisations to choose from, by name (Arabic name on Arabic pages)."""
        self.organisation.choices = [
            SelectChoice(
                org.id, f"{org.name_ar if arabic and org.name_ar else org.name} ({org.slug})"
            )
            for org in organisations
        ]


class UserForm(UserEditForm):
    """A new account: the address, then either a link e-mailed to choose the password (the
    default) or a password set now."""

    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"dir": "ltr", "autocomplete": "off"},
    )
    centre = SelectField(
        _l("Centre"),
        coerce=int,
        validate_choice=True,
        description=_l(
            "Analysts, coordinators and administrators: the vigilance centre they join (the "
            "national one by default). Reporters are in none."
        ),
    )
    password_mode = RadioField(
        _l("Password"),
        choices=[
            SelectChoice("link", _l("E-mail the user a link to choose it (recommended)")),
            SelectChoice("set", _l("Set it now and give it to the user yourself")),
        ],
        default="link",
    )
    password = PasswordField(
        _l("Password"), validators=[Length(max=1024)], description=PASSWORD_HELP
    )
    confirm_password = PasswordField(
        _l("Password, again"),
        validators=[EqualTo("password", message=_l("The two passwords do not match."))],
    )
    submit = SubmitField(_l("Create the account"))

    def validate_password(self, field: Field) -> None:
        if self.password_mode.data == "set" and not field.data:
            raise ValidationError(_("Type the password, or choose to e-mail a link."))


def name_fields() -> tuple[StringField, StringField]:
    """The French name (required) and the Arabic one, as organisations and centres have them."""
    return (
        StringField(
            _l("Name (French)"),
            validators=[DataRequired(), Length(max=200)],
            render_kw={"lang": "fr"},
        ),
        StringField(
            _l("Name (Arabic)"),
            validators=[Length(max=200)],
            render_kw={"lang": "ar", "dir": "rtl"},
        ),
    )


class OrganisationForm(FlaskForm):  # type: ignore[misc]
    """What describes an organisation; ``slug`` only when creating one."""

    slug = StringField(
        _l("Identifier"),
        validators=[DataRequired(), Length(max=64)],
        description=_l(
            "Lower-case letters, digits and dashes, e.g. min-sante. It never changes: filters, "
            "the API and the command line use it."
        ),
        render_kw={"dir": "ltr", "autocomplete": "off"},
    )
    name, name_ar = name_fields()
    kind = SelectField(_l("Kind"), choices=_kinds, default=OrganisationKind.MINISTRY.value)
    sector = StringField(
        _l("Sector"),
        validators=[Length(max=64)],
        description=_l("One word in English, as the statistics group them: health, finance…"),
        render_kw={"dir": "ltr", "list": "sectors", "autocomplete": "off"},
    )
    region = StringField(
        _l("Region"),
        validators=[Length(max=64)],
        description=_l("E.g. casablanca-settat; vigilance centres may answer for a region."),
        render_kw={"dir": "ltr", "list": "regions", "autocomplete": "off"},
    )
    contact_emails = TextAreaField(
        _l("Contact e-mail addresses"),
        validators=[Length(max=3000)],
        description=_l("One per line; at most 10."),
        render_kw={"dir": "ltr", "rows": 3},
    )
    phone = StringField(
        _l("Telephone"),
        validators=[Length(max=40)],
        render_kw={"dir": "ltr", "autocomplete": "off", "inputmode": "tel"},
    )
    submit = SubmitField(_l("Save"))

    def addresses(self) -> list[str]:
        raw = (self.contact_emails.data or "").replace(",", "\n").replace(";", "\n")
        return [line.strip() for line in raw.splitlines() if line.strip()]


class AssetForm(FlaskForm):  # type: ignore[misc]
    kind = SelectField(
        _l("Kind"),
        choices=_asset_kinds,
    )
    value = StringField(
        _l("Domain or range"),
        validators=[DataRequired(), Length(max=255)],
        description=_l("A domain name, an IP address or a CIDR range (IPv4 or IPv6)."),
        render_kw={
            "dir": "ltr",
            "autocomplete": "off",
            "placeholder": "sante.gov.ma · 198.51.100.0/24 · 2001:db8::/48",
        },
    )
    note = StringField(_l("Note"), validators=[Length(max=200)])
    submit = SubmitField(_l("Register"))


class ForgotForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"dir": "ltr"},
    )
    submit = SubmitField(_l("Send me a link"))


class ResetForm(FlaskForm):  # type: ignore[misc]
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=1024)],
        description=_l(
            "At least 12 characters; not a common password, nor your name or e-mail address. "
            "A few unrelated words make a good one."
        ),
    )
    confirm_password = PasswordField(
        _l("New password, again"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The two new passwords do not match.")),
        ],
    )
    # asked only of a reset for an account with two-factor sign-in (core.auth.resets.asks_code)
    code = StringField(
        _l("Code from your authenticator application, or a recovery code"),
        validators=[Optional(), Length(max=64)],
        render_kw={"autocomplete": "one-time-code", "dir": "ltr", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Set my password"))


def show_errors(form: FlaskForm, error: DomainError) -> list[str]:
    """Put a service's reasons (marked English phrases) under the form's fields, translated;
    the reasons about no field of the form, for the page to show above it."""
    others = []
    for name, reason in error.fields.items():
        field = getattr(form, name, None)
        if isinstance(field, Field):
            field.errors = [*field.errors, _(reason)]
        else:
            others.append(_(reason))
    return others


Row = TypeVar("Row")


def apply_change(
    load: Callable[[], Row],
    change: Callable[[Row], tuple[str, str]],
    *,
    form: FlaskForm | None,
    again: Callable[[Row, list[str]], ResponseReturnValue],
    done: str,
) -> ResponseReturnValue:
    """One change from an administration page (an organisation's, a centre's): ``change`` of
    what ``load`` reads, committed, its message flashed and back to ``done``; or, when the
    service refuses it, nothing written and the page ``again`` (read anew) with the errors next
    to ``form``'s fields and the others (without a form, the refusal propagates)."""
    try:
        message, category = change(load())
    except (ValidationFailed, Conflict) as exc:
        if form is None:
            raise
        unit_of_work().rollback()
        others = show_errors(form, exc)
        return again(load(), others)
    unit_of_work().commit()
    flash(message, category)
    return redirect(done)
