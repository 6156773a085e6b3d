"""The form of the CSAF import page: a file to upload, or the URL of a provider's advisory."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import URLField
from wtforms.validators import Length, Optional

from bulletins.csaf.importer import MAX_BYTES


class CsafImportForm(FlaskForm):  # type: ignore[misc]
    document = FileField(_l("CSAF 2.0 file (JSON)"))
    url = URLField(
        _l("Or the advisory's URL"),
        validators=[Optional(), Length(max=2048)],
        render_kw={"dir": "ltr", "placeholder": "https://…/advisory.json", "spellcheck": "false"},
    )

    def source(self) -> tuple[str, bytes | str] | None:
        """``("file", bytes)`` (one byte over the limit at most: the importer refuses it),
        ``("url", url)``, or ``None`` with an error on the form."""
        upload = self.document.data
        if isinstance(upload, FileStorage) and upload.filename:
            data: bytes = upload.read(MAX_BYTES + 1)
            if data:
                return "file", data
            self.document.errors = [*self.document.errors, _l("The file is empty.")]
            return None
        url = (self.url.data or "").strip()
        if url:
            if not url.lower().startswith(("http://", "https://")):
                self.url.errors = [*self.url.errors, _l("Give an http:// or https:// address.")]
                return None
            return "url", url
        self.document.errors = [*self.document.errors, _l("Choose a file or give a URL.")]
        return None
