"""``cert backup`` / ``cert restore`` (Flask-free): one gzip tar archive that brings a Vigie back.

The archive (format :data:`cert.backup.archive.FORMAT_VERSION`) holds:

* ``database/NNN-<table>.jsonl``: every table of the schema Alembic owns, in foreign-key order, one
  JSON array per row, typed by the column kinds the manifest records (:mod:`cert.backup.codec`), so
  that a dump of SQLite loads into PostgreSQL and back;
* ``uploads/<path>``: every regular file under ``CERT_UPLOAD_DIR`` (attachments by SHA-256, the
  raw bytes of received mail);
* ``manifest.json`` (last): format and Vigie versions, the Alembic revision, the source backend,
  the creation time, row counts, and the SHA-256 and size of every other member.

Not in it: the secret key (``CERT_SECRET_KEY`` or ``instance/secret_key``), which seals the
two-factor secrets and the outbox's sealed messages (:mod:`core.sealing`); the search index
(rebuilt); the Alembic version row (the restore migrates to the archive's revision).
"""

from __future__ import annotations


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the operator, in plain words."""
