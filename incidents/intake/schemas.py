"""Pydantic input/output types of incident intake, shared by the web form and the REST API.

The OpenAPI document is generated from these models, so their field names are the public API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from core import inputs
from core.markings import DEFAULT_PAP, DEFAULT_TLP, Pap, Tlp, parse_pap, parse_tlp
from incidents.models import ReporterState
from incidents.rules.priority import Level
from incidents.rules.taxonomy import rsit_classes


def visible_bidi(value: Any) -> Any:
    """Bidirectional controls made visible (``⟨U+202E⟩``) before the length is checked."""
    return inputs.show_bidi(value) if isinstance(value, str) else value


Text300 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
Title = Annotated[Text300, BeforeValidator(visible_bidi)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return inputs.instant(value) if value is not None else None


def _past(value: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
    """Not in the future (the request's clock, ``info.context["now"]``) nor decades old."""
    if value is None:
        return None
    context = info.context if isinstance(info.context, dict) else {}
    now = context.get("now") or dt.datetime.now(dt.UTC)
    return inputs.past_instant(value, now)


# An instant with its offset, in UTC, within core.inputs.EARLIEST–LATEST.
AwareDateTime = Annotated[dt.datetime, AfterValidator(_aware)]
# A detection or report time: moreover not in the future nor before 1990.
PastDateTime = Annotated[dt.datetime, AfterValidator(_past)]


@dataclass(frozen=True)
class Choices:
    """The JSON schema ``enum`` of a string, read when the OpenAPI document is built (the RSIT
    taxonomy is data). Validation stays with the field's validator, which accepts other
    spellings (any case; ``amber`` for ``TLP:AMBER``)."""

    values: Callable[[], Iterable[str]]

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["enum"] = list(self.values())
        return schema


def rsit_type_ids() -> list[str]:
    return list(dict.fromkeys(t.id for c in rsit_classes().values() for t in c.types))


RsitClassId = Annotated[str, Choices(rsit_classes)]
RsitTypeId = Annotated[str, Choices(rsit_type_ids)]
TlpLabel = Annotated[str, Choices(lambda: [t.value for t in Tlp])]
PapLabel = Annotated[str, Choices(lambda: [p.value for p in Pap])]


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

    title: Title = Field(
        description="Bidirectional controls (U+202A–202E, U+2066–2069, U+200E/200F, U+061C) "
        "are stored as visible ⟨U+202E⟩ markers"
    )
    description: LongText
    category: RsitClassId = Field(description="RSIT class id, e.g. malicious-code")
    type: RsitTypeId | None = Field(
        default=None, description="RSIT type id of the class, e.g. infected-system"
    )
    tlp: TlpLabel = Field(
        default=DEFAULT_TLP.value, description="TLP 2.0 label (default TLP:AMBER; any case)"
    )
    pap: PapLabel = Field(
        default=DEFAULT_PAP.value, description="PAP label (default PAP:AMBER; any case)"
    )
    impact: Level = Level.MEDIUM
    urgency: Level = Level.MEDIUM
    significant: bool = Field(default=False, description="Significant incident (NIS2 deadlines)")
    detected_at: PastDateTime | None = Field(
        default=None, description="With an offset; not in the future, not before 1990"
    )
    reported_at: PastDateTime | None = Field(
        default=None, description="With an offset; not in the future, not before 1990"
    )
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
    type: str = Field(description="ipv4, ipv6, domain, url, email, md5, sha1, sha256 or cve")
    value: str = Field(description="Canonical (refanged) value")


class ShareOut(BaseModel):
    """A vigilance centre an incident is shared with (joint investigation; CERT staff only)."""

    centre: str = Field(description="Slug of the centre")
    mode: str = Field(description="read (its members see it) or work (see and work it)")


class MergedInto(BaseModel):
    """The incident a duplicate is followed under, as its reader may see it."""

    reference: str | None = Field(
        description="Its reference; null when it belongs to another organisation"
    )
    status: str = Field(description="Its status: the CERT's handling of the merged report")
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None


class IncidentOut(BaseModel):
    """An incident as the API returns it."""

    reference: str = Field(description="<PREFIX>-<YYYY>-<NNNNNN>, e.g. MACERT-2026-000042")
    title: str
    status: str = Field(description="new, triaged, in_progress, resolved, closed, rejected, …")
    priority: str = Field(description="P1 (highest) to P4, from impact × urgency")
    category: str = Field(description="RSIT class id")
    type: str | None = Field(description="RSIT type id")
    tlp: str
    pap: str
    impact: str
    urgency: str
    organisation: str = Field(description="Slug of the reporting organisation")
    received_at: dt.datetime
    acknowledge_by: dt.datetime = Field(description="SLA: acknowledgement due")
    resolve_by: dt.datetime = Field(description="SLA: resolution due")
    observables: list[ObservableOut]
    possible_duplicates: list[str] = Field(
        description="References of recent incidents of the same organisation sharing observables"
    )
    links: dict[str, str] = Field(
        description="URLs to GET: self (this answer) and track (the reporter's page)"
    )
    significant: bool = False
    early_warning_by: dt.datetime | None = Field(
        default=None, description="Significant incidents: NIS2 early warning due"
    )
    notification_by: dt.datetime | None = Field(
        default=None, description="Significant incidents: NIS2 incident notification due"
    )
    final_report_by: dt.datetime | None = Field(
        default=None, description="Significant incidents: NIS2 final report due"
    )
    detected_at: dt.datetime | None = None
    reported_at: dt.datetime | None = None
    source_ref: str | None = Field(default=None, description="The reporter's own reference")
    merged_into: MergedInto | None = Field(
        default=None,
        description="A duplicate merged into another incident: that incident's status (and "
        "reference, within one organisation)",
    )
    centre: str | None = Field(
        default=None,
        description="Slug of the vigilance centre the incident belongs to (CERT staff; null for "
        "reporters)",
    )
    shares: list[ShareOut] | None = Field(
        default=None,
        description="Other centres it is shared with, by slug (CERT staff; null for reporters)",
    )


class AttachmentOut(BaseModel):
    """A file attached to an incident (stored by SHA-256, type sniffed from the content)."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Names the file in the reporter's answer (`attachments`)")
    filename: str
    sha256: str
    size: int = Field(description="Bytes")
    content_type: str = Field(description="Sniffed from the bytes, not taken from the client")
