"""Web forms of the held-mail queue (Flask-WTF: every form carries a CSRF token). They check
lengths only; what the values mean (an organisation, a reference, a contact) is the services'
to judge (:mod:`incidents.mailbox.held`), with the same messages as the API."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.markings import Tlp
from incidents.mailbox.held import NOTE_MAX

TLP_CHOICES = [SelectChoice(tlp.value, tlp.value) for tlp in Tlp]


class IncidentForm(FlaskForm):  # type: ignore[misc]
    organisation = SelectField(_l("Organisation"), choices=[], validate_choice=False)
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    tlp = SelectField(_l("TLP"), choices=TLP_CHOICES, default=Tlp.AMBER.value)
    acknowledge = BooleanField(_l("Send the acknowledgement to the sender"))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)])


class AttachForm(FlaskForm):  # type: ignore[misc]
    reference = StringField(_l("Incident reference"), validators=[DataRequired(), Length(max=32)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)])


class DiscardForm(FlaskForm):  # type: ignore[misc]
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)])


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button alone (reprocess): only the CSRF token is checked."""
