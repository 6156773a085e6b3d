"""``POST /api/v1/enrich``: the request and the answer (pydantic: they are the OpenAPI
document's schemas)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from feeds.rules.observables import ObservableType, canonicalise

MAX_OBSERVABLES = 1000


class ObservableQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: ObservableType = Field(
        description="ipv4, ipv6, domain, url, email, md5, sha1, sha256 or cve"
    )
    value: str = Field(
        min_length=1, max_length=2048, description="The value; defanged forms are accepted"
    )

    @field_validator("value")
    @classmethod
    def _canonical(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("type")
        return value if kind is None else canonicalise(kind, value)  # ValueError: 422


class EnrichRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    observables: list[ObservableQuery] = Field(
        min_length=1,
        max_length=MAX_OBSERVABLES,
        description=f"1 to {MAX_OBSERVABLES} observables, answered in this order",
    )


class IndicatorRef(BaseModel):
    id: int
    name: str
    pattern: str | None = Field(description="The STIX pattern, when the source gave one")
    stix_id: str | None


class RelatedOut(BaseModel):
    type: str = Field(description="malware, intrusion-set, campaign, attack-pattern…")
    name: str
    external_id: str | None = Field(default=None, description="ATT&CK id (T1566), CVE…")
    stix_id: str | None = None


class MatchOut(BaseModel):
    indicator: IndicatorRef
    source: str = Field(description="The feed's name")
    confidence: int = Field(ge=0, le=100)
    tlp: str = Field(description="The indicator's TLP 2.0 label: share accordingly")
    why: str = Field(description="exact, network, parent-domain or url-host")
    matched: str = Field(description="The stored value met (a network, a parent domain…)")
    valid_until: dt.datetime | None
    related: list[RelatedOut]


class EnrichResult(BaseModel):
    type: str
    value: str = Field(description="The canonical (refanged) value")
    matches: list[MatchOut] = Field(
        description="Live indicators met, strongest reason first; none for a known-benign value"
    )
    warning_lists: list[str] = Field(
        description="MISP warning lists the value is on (known-benign: it never matches)"
    )


class EnrichResponse(BaseModel):
    results: list[EnrichResult]


def related_out(related: list[dict[str, Any]]) -> list[RelatedOut]:
    return [RelatedOut.model_validate(item) for item in related]
