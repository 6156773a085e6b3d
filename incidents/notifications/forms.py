"""Web forms of the notification centre (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SubmitField

from incidents.notifications.models import EmailMode


class EmailPreferenceForm(FlaskForm):  # type: ignore[misc]
    email = RadioField(
        _l("E-mail me about my notifications"),
        choices=[
            SelectChoice(EmailMode.IMMEDIATE.value, _l("Immediately")),
            SelectChoice(EmailMode.DIGEST.value, _l("Once a day, in a digest")),
            SelectChoice(EmailMode.OFF.value, _l("Never (the bell only)")),
        ],
    )
    submit = SubmitField(_l("Save"))


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button alone (mark as read, open, put on duty): only the CSRF token is checked."""
