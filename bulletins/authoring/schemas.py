"""What a bulletin draft is made of (pydantic v2, shared by the API, forms and CLI): fields after
the maCERT model; French text required, English and Arabic optional. Errors name the field."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bulletins.models import MAX_TITLE, BulletinKind, RiskLevel
from core import inputs
from core.markings import parse_tlp

CVE = re.compile(r"^CVE-\d{4}-\d{4,7}$")
LANGUAGES = ("fr", "en", "ar")
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Long = Annotated[str, StringConstraints(max_length=20_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Affected(Strict):
    vendor: Short
    product: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    versions: Short = ""


class Indicator(Strict):
    type: Literal["ipv4", "ipv6", "domain", "url", "md5", "sha1", "sha256", "email", "file"]
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]


class Score(Strict):
    """A CVSS score (from a vendor's CSAF advisory, or typed by the analyst)."""

    cve: str | None = None
    version: Literal["2.0", "3.0", "3.1", "4.0"] = "3.1"
    base_score: float = Field(ge=0, le=10)
    vector: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""

    @field_validator("cve")
    @classmethod
    def _cve(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        cve = value.strip().upper()
        if not CVE.match(cve):
            raise ValueError(f"{value!r} is not a CVE id (CVE-2026-12345)")
        return cve


Slug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class Text(Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=MAX_TITLE)]  # fmt: skip
    summary: Long = ""
    solution: Long = ""
    risks: Long = ""

    @field_validator("title", "summary", "solution", "risks")
    @classmethod
    def _clean(cls, value: str) -> str:
        return inputs.show_bidi(value)


class DraftIn(Strict):
    kind: BulletinKind
    tlp: str = "TLP:CLEAR"
    risk: RiskLevel = RiskLevel.MODERATE
    impact: RiskLevel = RiskLevel.MODERATE
    affected: list[Affected] = Field(default_factory=list, max_length=500)
    cves: list[str] = Field(default_factory=list, max_length=1000)
    links: list[str] = Field(default_factory=list, max_length=200)
    indicators: list[Indicator] = Field(default_factory=list, max_length=10_000)
    scores: list[Score] = Field(default_factory=list, max_length=1000)
    texts: dict[str, Text]
    # the audience: the organisations it is about (slugs; TLP:AMBER goes to them only) and the
    # distribution lists it is sent to when published (slugs)
    organisations: list[Slug] = Field(default_factory=list, max_length=500)
    lists: list[Slug] = Field(default_factory=list, max_length=100)

    @field_validator("tlp")
    @classmethod
    def _tlp(cls, value: str) -> str:
        return str(parse_tlp(value))

    @field_validator("cves")
    @classmethod
    def _cves(cls, values: list[str]) -> list[str]:
        out: list[str] = []
        for value in values:
            cve = value.strip().upper()
            if not CVE.match(cve):
                raise ValueError(f"{value!r} is not a CVE id (CVE-2026-12345)")
            if cve not in out:
                out.append(cve)
        return out

    @field_validator("links")
    @classmethod
    def _links(cls, values: list[str]) -> list[str]:
        out: list[str] = []
        for value in values:
            link = value.strip()
            if (
                not re.match(r"^https?://[^\s/$.?#][^\s]*$", link, re.IGNORECASE)
                or len(link) > 2048
            ):
                raise ValueError(f"{value[:80]!r} is not an http(s) URL")
            if link not in out:
                out.append(link)
        return out

    @field_validator("texts")
    @classmethod
    def _texts(cls, values: dict[str, Text]) -> dict[str, Text]:
        unknown = [k for k in values if k not in LANGUAGES]
        if unknown:
            raise ValueError(f"languages are fr, en and ar, not {', '.join(sorted(unknown))}")
        if "fr" not in values:
            raise ValueError("the French text is required")
        return values
