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


# the field of a six-digit code: a number pad on phones, filled from the SMS/authenticator
# suggestions where the platform offers it, always left to right
CODE_ATTRS = {
    "inputmode": "numeric",
    "autocomplete": "one-time-code",
    "dir": "ltr",
    "size": "8",
    "spellcheck": "false",
}


class CodeForm(FlaskForm):  # type: ignore[misc]
    """The six-digit code of the authenticator application (sign-in, enrolment)."""

    code = StringField(
        _l("Code from your authenticator application"),
        validators=[DataRequired(message=_l("Type the six-digit code.")), Length(max=32)],
        description=_l("Six digits, renewed every 30 seconds."),
        render_kw=CODE_ATTRS,
    )
    submit = SubmitField(_l("Verify"))


class RecoveryCodeForm(FlaskForm):  # type: ignore[misc]
    """One of the ten recovery codes, instead of the application's code."""

    recovery_code = StringField(
        _l("Recovery code"),
        validators=[DataRequired(message=_l("Type one of your recovery codes.")), Length(max=64)],
        description=_l("For example abcd-efgh-jkmn. Each code works once."),
        render_kw={"autocomplete": "off", "dir": "ltr", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Use this recovery code"))
