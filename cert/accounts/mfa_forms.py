"""Forms of the account page's two-factor section (Flask-WTF: each carries a CSRF token). Both
ask the ``code`` the authenticator application shows (or an unused recovery code); their
fields have ids of their own, since both are on one page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

_CODE_HELP = _l("The 6-digit code your authenticator application shows now, or a recovery code.")


def _code(field_id: str) -> StringField:
    return StringField(
        _l("Current code"),
        id=field_id,
        validators=[DataRequired(), Length(max=32)],
        description=_CODE_HELP,
        render_kw={"dir": "ltr", "spellcheck": "false", "autocapitalize": "off"},
    )


class RecoveryCodesForm(FlaskForm):  # type: ignore[misc]
    """A new set of ten recovery codes (the former ones stop working)."""

    code = _code("recovery-codes-code")
    submit = SubmitField(_l("New recovery codes"))


class DisableSecondFactorForm(FlaskForm):  # type: ignore[misc]
    """Turning two-factor sign-in off (roles that do not require it)."""

    code = _code("disable-code")
    submit = SubmitField(_l("Turn off"))
