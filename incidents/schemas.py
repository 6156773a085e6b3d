"""Pydantic input/output types of incident intake, shared by the web form and the REST API.

The OpenAPI document is generated from these models, so their field names are the public API.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
)

from cert.markings import DEFAULT_PAP, DEFAULT_TLP, parse_pap, parse_tlp
from incidents.models import ReporterState
from incidents.triage import Level

Text300 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("must include a timezone offset, e.g. 2026-03-01T08:30:00+01:00 or …Z")
    return value.astimezone(dt.UTC) if value is not None else None


AwareDateTime = Annotated[dt.datetime, AfterValidator(_aware)]


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+().\s-]{4,40}$")
    email: EmailStr | None = None


class ObservableIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str = Field(description="ipv4, ipv6, domain, url, email, md5, sha1, sha256 or cve")
    value: str = Field(min_length=1, max_length=2048)


class IncidentSubmission(BaseModel):
    """What a reporting organisation sends; every field is validated, unknown ones refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Text300
    description: LongText
    category: str = Field(description="RSIT class id, e.g. malicious-code")
    type: str | None = Field(default=None, description="RSIT type id, e.g. infected-system")
    tlp: str = Field(default=DEFAULT_TLP.value, description="TLP 2.0 label (default TLP:AMBER)")
    pap: str = Field(default=DEFAULT_PAP.value, description="PAP label (default PAP:AMBER)")
    impact: Level = Level.MEDIUM
    urgency: Level = Level.MEDIUM
    significant: bool = Field(default=False, description="Significant incident (NIS2 deadlines)")
    detected_at: AwareDateTime | None = None
    reported_at: AwareDateTime | None = None
    affected_assets: list[ShortText] = Field(default_factory=list, max_length=200)
    users_affected: int | None = Field(default=None, ge=0, le=100_000_000)
    systems_affected: int | None = Field(default=None, ge=0, le=10_000_000)
    reporter_state: ReporterState | None = None
    actions_taken: str | None = Field(default=None, max_length=20_000)
    observables: list[ObservableIn] = Field(default_factory=list, max_length=2000)
    source_ref: str | None = Field(default=None, min_length=1, max_length=200)
    contact: Contact | None = None
    organisation: str | None = Field(
        default=None, description="Organisation slug; CERT staff only (reporters: their own)"
    )

    @field_validator("tlp")
    @classmethod
    def _tlp(cls, value: str) -> str:
        return parse_tlp(value).value

    @field_validator("pap")
    @classmethod
    def _pap(cls, value: str) -> str:
        return parse_pap(value).value

    @field_validator("category", "type")
    @classmethod
    def _ids(cls, value: str | None) -> str | None:
        return value.strip().lower() if value else value


class ObservableOut(BaseModel):
    type: str
    value: str


class IncidentOut(BaseModel):
    reference: str
    title: str
    status: str
    priority: str
    category: str
    type: str | None
    tlp: str
    pap: str
    impact: str
    urgency: str
    organisation: str
    received_at: dt.datetime
    acknowledge_by: dt.datetime
    resolve_by: dt.datetime
    observables: list[ObservableOut]
    possible_duplicates: list[str]
    links: dict[str, str]
