"""Domain error family. Services raise these; adapters map them to HTTP centrally (``core.web``)."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base class. ``code`` is a stable machine-readable name, ``status`` the HTTP status to use."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, str] = dict(fields or {})


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
