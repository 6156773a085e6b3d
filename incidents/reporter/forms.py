"""The reporter's answer form on ``/track``: the message and the files sent with it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from werkzeug.datastructures import FileStorage

from incidents.workspace.forms import BodyForm


class AnswerForm(BodyForm):
    """A message to the CERT with up to :data:`incidents.workspace.answer_files.MAX_FILES`
    files (each checked like the report form's)."""

    files = MultipleFileField(_l("Attach files"))

    def uploads(self) -> list[FileStorage]:
        """The files chosen (an empty file input sends one nameless part: not a file)."""
        return [f for f in self.files.data or [] if isinstance(f, FileStorage) and f.filename]
