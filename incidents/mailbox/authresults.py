"""``Authentication-Results`` (RFC 8601) of the receiving MTA (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


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
    sender may add any it likes) are ignored."""
    raise NotImplementedError  # helper "parsing" writes it
