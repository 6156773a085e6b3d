"""Secrets at rest (kernel): text sealed with a key derived from ``CERT_SECRET_KEY``.

An outbox message that carries a secret (a link to set a password) is stored sealed — its
template context, then its rendered bodies — so that whoever reads the database (a backup, a
read-only database user) cannot take the secret from it; only the sender, which has the key,
opens it at delivery time (:mod:`core.mail_sender`), and the sealed content is dropped once the
message is sent or given up.

Sealing is Fernet (AES-128-CBC with HMAC-SHA256, from the ``cryptography`` package) with a key
derived from the secret key by HKDF-SHA256 for this one use. A sealed value is text starting
with :data:`PREFIX`. Changing ``CERT_SECRET_KEY`` makes the messages sealed before it unreadable:
they fail (the links they carried can be sent again).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "sealed:v1:"
_PURPOSE = b"vigie outbox sealing v1"


class CannotOpen(ValueError):
    """The sealed value was sealed with another key, or altered."""


class Sealer:
    """Seals and opens text with the key derived from ``secret_key``."""

    def __init__(self, secret_key: str, *, purpose: bytes = _PURPOSE) -> None:
        """``purpose``: what the key is for (HKDF's info): each use has a key of its own."""
        if not secret_key:
            raise ValueError("sealing needs a secret key")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
            secret_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, text: str) -> str:
        return PREFIX + self._fernet.encrypt(text.encode()).decode("ascii")

    def open(self, value: str) -> str:
        """The text of a sealed value (``CannotOpen`` when the key differs or it was altered)."""
        if not is_sealed(value):
            raise CannotOpen("not a sealed value")
        try:
            return self._fernet.decrypt(value.removeprefix(PREFIX).encode()).decode()
        except InvalidToken as exc:
            raise CannotOpen("sealed with another key, or altered") from exc


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)
