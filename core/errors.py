"""Domain error family. Services raise these; adapters map them to HTTP centrally (``core.web``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Message(str):
    """A reason for a person, in English (what the API, the CLI and the logs show) that pages
    translate: ``msgid`` is the catalogue entry (marked with ``core.i18n.N_`` for extraction)
    and ``params`` fill its ``%(name)s`` placeholders once translated. A ``Message`` is a
    ``str``, so every place that joins or prints reasons keeps working."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> Message:
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    @classmethod
    def term(cls, code: str, msgid: str) -> Message:
        """A code in English text (``closed``, stable for API clients) that pages show by its
        label (``msgid``, e.g. "Closed", translated): a param of another message."""
        self = super().__new__(cls, code)
        self.msgid, self.params = msgid, {}
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # pickling keeps the text, msgid and params
        return (_message, (str(self), self.msgid, self.params))


def _message(text: str, msgid: str, params: dict[str, Any]) -> Message:
    if not params:
        return Message.term(text, msgid)
    return Message(msgid, **params)


class DomainError(Exception):
    """Base class. ``code`` is a stable machine-readable name, ``status`` the HTTP status to use."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, str] = dict(fields or {})


MAX_ERROR_LENGTH = 2000  # characters of an error kept on a row (outbox, delivery, mail, run)


def describe(exc: BaseException, *, limit: int = MAX_ERROR_LENGTH) -> str:
    """An error as a row records it for the operator: its type and message, bounded."""
    return f"{type(exc).__name__}: {exc}"[:limit]


def reason_of(exc: BaseException) -> str:
    """What a ``ValueError`` of a parser says: its :class:`Message` when it was raised with
    one (``str(exc)`` would lose the msgid), else its text."""
    first = exc.args[0] if exc.args else ""
    return first if isinstance(first, str) else str(exc)


class ValidationFailed(DomainError):
    """Input is invalid; ``fields`` maps each invalid field to what is wrong with it."""

    code = "validation_failed"
    status = 422


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it exists."""

    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    """The actor may see the object but not do this to it."""

    code = "forbidden"
    status = 403


class AuthenticationFailed(DomainError):
    code = "unauthorized"
    status = 401


class Conflict(DomainError):
    """The change conflicts with existing state (duplicate, concurrent edit, idempotency)."""

    code = "conflict"
    status = 409


class InvalidTransition(ValidationFailed):
    """A move the workflow does not allow (e.g. ``new`` → ``closed``). A ``ValidationFailed``
    (422, ``validation_failed``, the offending field in ``fields``): the request names a target
    state that is not valid from the current one, which the client corrects like any input."""
