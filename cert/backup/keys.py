"""The secret key a restore needs: values sealed with a key derived from ``CERT_SECRET_KEY``
(:mod:`core.sealing`) — the users' TOTP secrets, the outbox's sealed messages — open only with the
key of the instance that sealed them. A restore tries one of each before it writes anything."""

from __future__ import annotations

import tarfile

from cert.backup import BackupError
from cert.backup.archive import Manifest
from cert.backup.rows import members_of, read_rows
from core.auth import mfa
from core.sealing import CannotOpen, Sealer, is_sealed

# table → the columns holding sealed text, and which sealer opens them
_TOTP = ("totp_secret",)  # a pending enrolment may be sealed with a former key: not checked
_OUTBOX = ("text_body", "html_body")

WRONG_KEY = (
    "the archive's sealed values ({what}) do not open with this instance's secret key: restore "
    "with the CERT_SECRET_KEY (or instance/secret_key) of the Vigie that made the backup. To "
    "restore anyway (every user's two-factor enrolment must then be reset with "
    "`cert users mfa-reset`, and sealed mail still queued fails), give --allow-key-change"
)


def check_secret_key(archive: tarfile.TarFile, manifest: Manifest, secret_key: str) -> int:
    """How many sealed values were opened with ``secret_key`` (0: the archive has none);
    a :class:`BackupError` at the first that does not open."""
    totp, outbox = mfa.sealer(secret_key), Sealer(secret_key)
    wanted = {e.member: e for e in manifest.tables if e.name in ("users", "outbox_messages")}
    opened = 0
    for member, entry in members_of(archive, wanted):
        for row in read_rows(archive, member, entry):
            if entry.name == "users":
                values = [(row.get(c), totp, "two-factor secrets") for c in _TOTP]
            else:
                context = row.get("template_context")
                sealed = context.get("sealed") if isinstance(context, dict) else None
                values = [(row.get(c), outbox, "queued sealed mail") for c in (*_OUTBOX,)]
                values.append((sealed, outbox, "queued sealed mail"))
            for value, sealer, what in values:
                if is_sealed(value):
                    try:
                        sealer.open(str(value))
                    except CannotOpen as exc:
                        raise BackupError(WRONG_KEY.format(what=what)) from exc
                    opened += 1
            if opened >= 3:
                return opened
    return opened
