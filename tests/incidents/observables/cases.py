"""Shared helpers of the observable-extraction tests."""

from __future__ import annotations

from incidents.observables.extraction import extract

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def found(text: str) -> list[str]:
    """The exact, ordered ``"type value"`` strings that ``extract`` returns."""
    return [f"{observable.type} {observable.value}" for observable in extract(text)]


def case_id(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
