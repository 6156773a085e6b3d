"""The forms of the playbooks pages (Flask-WTF): importing a document, starting a run.

Forms check the shape of the input only; the document itself is checked by
:func:`playbooks.library.services.import_playbook` (every problem with its JSON path).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired

from playbooks.library.services import MAX_DOCUMENT_BYTES
from playbooks.models import Playbook


class ImportForm(FlaskForm):  # type: ignore[misc]
    document = FileField(_l("CACAO 2.0 JSON file"))
    text = TextAreaField(
        _l("Or paste the JSON document"),
        render_kw={"dir": "ltr", "rows": 10, "spellcheck": "false"},
    )

    def payload(self) -> bytes | str | None:
        """The uploaded file's bytes (one byte over the limit at most: the service says it is
        too large), else the pasted text; ``None`` (and an error on the form) when neither."""
        upload = self.document.data
        if isinstance(upload, FileStorage) and upload.filename:
            data: bytes = upload.read(MAX_DOCUMENT_BYTES + 1)
            if data:
                return data
            self.document.errors = [*self.document.errors, _l("The file is empty.")]
            return None
        if self.text.data and self.text.data.strip():
            return str(self.text.data)
        self.text.errors = [*self.text.errors, _l("Choose a file or paste a document.")]
        return None


class StartForm(FlaskForm):  # type: ignore[misc]
    playbook = SelectField(_l("Playbook"), validators=[DataRequired()], choices=[])

    def offer(self, playbooks: list[Playbook]) -> None:
        self.playbook.choices = [(str(p.id), p.name) for p in playbooks]
