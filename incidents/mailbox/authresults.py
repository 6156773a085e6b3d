"""``Authentication-Results`` (RFC 8601) of the receiving MTA (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import authres

_AUTHSERV_ID = re.compile(r"\s*(?:\([^()]*\)\s*)?([^\s;()]+)")


@dataclass(frozen=True)
class Verdicts:
    """What the trusted MTA said: ``pass``, ``fail``, ``none``, ``softfail``, … per method."""

    authserv_id: str
    spf: str | None
    dkim: str | None
    dmarc: str | None
    header: str  # the header value the verdicts were read from

    @property
    def dmarc_failed(self) -> bool:
        return self.dmarc == "fail"

    @property
    def authenticated(self) -> bool:
        """DMARC passed; or, without DMARC, DKIM or SPF passed."""
        if self.dmarc is not None and self.dmarc != "none":
            return self.dmarc == "pass"
        return self.dkim == "pass" or self.spf == "pass"

    def as_json(self) -> dict[str, Any]:
        return {
            "authserv_id": self.authserv_id,
            "spf": self.spf,
            "dkim": self.dkim,
            "dmarc": self.dmarc,
            "header": self.header,
        }


def trusted_verdicts(values: Sequence[str], trusted_id: str | None) -> Verdicts | None:
    """The verdicts of the topmost header whose authserv-id is ``trusted_id`` (case-insensitive);
    None when ``trusted_id`` is None or no such header is present. Headers of other ids (a
    sender may add any it likes) and malformed ones are ignored, except a malformed header of
    the trusted id above all others: its verdicts are unknown (None) rather than a forged
    header's below it."""
    if not trusted_id:
        return None
    wanted = trusted_id.strip().lower()
    for value in values:
        header = _parsed(value)
        if header is None:
            if _leading_id(value) == wanted:  # the trusted MTA's own header, unreadable: no
                return Verdicts(wanted, None, None, None, value)  # forged one below counts
            continue
        if str(header.authserv_id or "").lower() != wanted:
            continue
        results = [r for r in header.results if getattr(r, "method", None)]
        return Verdicts(
            authserv_id=wanted,
            spf=_first(results, "spf"),
            dkim="pass" if _first(results, "dkim", "pass") else _first(results, "dkim"),
            dmarc=_first(results, "dmarc"),
            header=value,
        )
    return None


def _leading_id(value: str) -> str:
    match = _AUTHSERV_ID.match(value)
    return match.group(1).lower() if match else ""


def _parsed(value: str) -> Any | None:
    """The header as ``authres`` reads it; None when malformed (a sender may write anything)."""
    try:
        return authres.AuthenticationResultsHeader.parse(f"Authentication-Results: {value}")
    except Exception:  # noqa: BLE001 - authres raises its own errors and some of Python's
        return None


def _first(results: list[Any], method: str, result: str | None = None) -> str | None:
    """The result of the first ``method`` result (of the first with ``result``, if given)."""
    for item in results:
        verdict = str(item.result or "").lower()
        if str(item.method).lower() == method and result in (None, verdict):
            return verdict
    return None
