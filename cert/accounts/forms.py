"""Web forms of the accounts pages (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length

from core.auth.tokens import TokenScope
from core.i18n import LOCALES
from core.web import LANGUAGE_NAMES


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"dir": "ltr"},
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField(_l("Sign in"))


class LocaleForm(FlaskForm):  # type: ignore[misc]
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, LANGUAGE_NAMES[code], {"lang": code}) for code in LOCALES],
    )
    submit = SubmitField(_l("Save"))


class TokenForm(FlaskForm):  # type: ignore[misc]
    label = StringField(
        _l("Label"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What the token is for, e.g. the name of a script."),
    )
    # read first: a script that only reads should not be able to change anything if it leaks
    scope = RadioField(
        _l("Access"),
        choices=[
            SelectChoice(TokenScope.READ.value, _l("Read only")),
            SelectChoice(TokenScope.WRITE.value, _l("Read and write")),
        ],
        default=TokenScope.READ.value,
        description=_l(
            "A read-only token can list and read, never create or change anything; choose "
            "read and write only for a script that must report or update incidents."
        ),
    )
    submit = SubmitField(_l("Create a token"))


class PasswordForm(FlaskForm):  # type: ignore[misc]
    """The user's own password change; the new one passes :mod:`core.auth.passwords`."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=1024)]
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired()],
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
    submit = SubmitField(_l("Change my password"))


class AdminPasswordForm(FlaskForm):  # type: ignore[misc]
    """An administrator sets another user's password (the same policy)."""

    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired()],
        description=_l(
            "At least 12 characters; not a common password, nor the user's name or e-mail "
            "address. Every session of the user ends."
        ),
    )
    confirm_password = PasswordField(
        _l("New password, again"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The two new passwords do not match.")),
        ],
    )
    submit = SubmitField(_l("Set the password"))


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button alone (logout, revoke): only the CSRF token is checked."""
