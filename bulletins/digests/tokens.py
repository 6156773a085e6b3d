"""Unsubscribe tokens (Flask-free): a list and an address, signed with the application's
secret key (``itsdangerous``, salted for this use only) and dated, so that the link of a digest
works without an account and cannot be forged or pointed at another address or list."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadData, URLSafeTimedSerializer

SALT = "bulletins.digests.unsubscribe"
MAX_AGE_SECONDS = 400 * 24 * 3600  # a link in a digest works for about a year


@dataclass(frozen=True)
class Unsubscription:
    list_id: int
    email: str


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    if not secret_key:
        raise ValueError("no secret key to sign unsubscribe links")
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def sign(secret_key: str, list_id: int, email: str) -> str:
    return _serializer(secret_key).dumps([list_id, email.lower()])


def read(secret_key: str, token: str, *, max_age: int = MAX_AGE_SECONDS) -> Unsubscription | None:
    """The list and address of ``token``; None when it is forged, altered, malformed or older
    than ``max_age`` seconds."""
    try:
        value = _serializer(secret_key).loads(token, max_age=max_age)
    except BadData:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or not isinstance(value[1], str)
    ):
        return None
    return Unsubscription(value[0], value[1])
