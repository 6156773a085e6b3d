"""Forms of the queue page (Flask-WTF): saving a filter, deleting one, bulk actions.

The filter itself is a plain GET form (bookmarkable URLs) read by ``QueueFilter.from_args``;
these POST forms only check the shape of the input, the rules are the services'.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from incidents.models import IncidentStatus
from incidents.queue.filter import PRIORITIES
from incidents.queue.saved_filters import MAX_NAME
from incidents.rules import labels


class SaveFilterForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        _l("Name of this filter"),
        validators=[DataRequired(), Length(max=MAX_NAME)],
        render_kw={"maxlength": MAX_NAME, "dir": "auto"},
    )
    args = HiddenField()  # the current filter as a query string


class DeleteFilterForm(FlaskForm):  # type: ignore[misc]
    pass


class BulkForm(FlaskForm):  # type: ignore[misc]
    action = SelectField(
        _l("Action"),
        choices=[
            SelectChoice("assign_me", _l("Assign to me")),
            SelectChoice("assign", _l("Assign to…")),
            SelectChoice("unassign", _l("Unassign")),
            SelectChoice("status", _l("Change status to…")),
            SelectChoice("priority", _l("Set priority to…")),
        ],
        validators=[InputRequired()],
    )
    assignee = SelectField(_l("Assignee"), validators=[Optional()], validate_choice=False)
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(s.value, _l(labels.STATUSES[s.value])) for s in IncidentStatus],
        validators=[Optional()],
    )
    priority = SelectField(
        _l("Priority"),
        choices=[SelectChoice("", "—")] + [SelectChoice(p, p) for p in PRIORITIES],
        validators=[Optional()],
    )
    reason = StringField(
        _l("Reason"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"dir": "auto"},
        description=_l("Required to reject or mark as duplicate: the reporter reads it."),
    )
    duplicate_of = StringField(
        _l("Original incident"),
        validators=[Optional(), Length(max=32)],
        render_kw={"dir": "ltr", "maxlength": 32, "placeholder": "MACERT-…"},
    )
    resolution = TextAreaField(
        _l("Resolution summary"),
        validators=[Optional(), Length(max=20_000)],
        render_kw={"rows": 2, "dir": "auto"},
    )
    back = HiddenField()  # the queue URL to return to
    confirmed = HiddenField()  # "1" once the analyst confirmed taking incidents from others
