"""Observable types and canonical explicit values, shared by the incidents' observables and the
indicator index (pure module: no DB, no HTTP).

An incident's observable and a feed's indicator match when their canonical forms are equal, so
both sides spell values with the one function here: :func:`canonicalise` (an explicit
``{"type", "value"}``, defanged or not) over :mod:`feeds.rules.values`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from feeds.rules import values
from feeds.rules.refang import refang
from feeds.rules.values import InvalidObservable

__all__ = ["HASH_BY_LENGTH", "InvalidObservable", "Observable", "ObservableType", "canonicalise"]


class ObservableType(enum.StrEnum):
    """The observable types of Vigie's public interface (API ``type`` values)."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"
    DOMAIN = "domain"
    URL = "url"
    EMAIL = "email"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    CVE = "cve"


@dataclass(frozen=True, slots=True)
class Observable:
    """A typed, canonical value; where it was found and its TLP are the caller's to record."""

    type: ObservableType
    value: str


_HASHES = {
    ObservableType.MD5: ("MD5", 32),
    ObservableType.SHA1: ("SHA-1", 40),
    ObservableType.SHA256: ("SHA-256", 64),
}
_KINDS: dict[str, ObservableType] = {kind.value: kind for kind in ObservableType}
HASH_BY_LENGTH = {length: kind for kind, (_, length) in _HASHES.items()}


def canonicalise(type: str, value: str) -> str:  # ``type``: the API's field name
    """Canonical form of an explicit ``{"type": …, "value": …}``; ``ValueError`` if invalid.

    Defanged values are accepted (``hxxps://evil[.]example``); explicit domains and e-mail
    domains may also use private suffixes (``.local``, ``.internal``, ``.corp``…).
    """
    kind = _KINDS.get(type)  # not ObservableType(type): an enum call costs microseconds
    if kind is None:
        known = ", ".join(ObservableType)
        raise InvalidObservable(f"unknown observable type {type!r} (one of {known})")
    text = refang(value).strip()
    if not text:
        raise InvalidObservable(f"empty {kind} value")
    if kind in _HASHES:
        name, length = _HASHES[kind]
        return values.digest(name, length, text)
    if kind is ObservableType.URL:
        return values.url(text)[0]
    canonical = {
        ObservableType.IPV4: values.ipv4,
        ObservableType.IPV6: values.ipv6,
        ObservableType.DOMAIN: values.domain,
        ObservableType.EMAIL: values.email,
        ObservableType.CVE: values.cve,
    }[kind]
    return canonical(text)
