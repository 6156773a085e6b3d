"""What a lead gives to add or change a feed, and what the API shows of one (pydantic, Flask-free).

Shared by the command line, the lead's form and the REST API, so the rules are the same
everywhere:

* ``name``: a slug (lower-case letters, digits, ``-``, ``_``), at most 64 characters, unique;
* ``kind``: ``stix-url``, ``misp-feed``, ``csv`` or ``taxii`` (``file`` feeds are created by
  ``cert feeds import``);
* ``url``: an ``http``/``https`` URL with a host (whether the host is allowed —
  ``CERT_FEEDS_ALLOW_PRIVATE`` — is checked when the feed is polled);
* ``value_type`` / ``column`` / ``delimiter``: CSV and text lists only (the type is required;
  one value per line is column 1);
* ``tlp``: a TLP 2.0 label (legacy ``TLP:WHITE`` becomes ``TLP:CLEAR``); ``confidence`` 0–100;
  ``types``: the observable types kept (empty = all);
* ``interval_seconds``: 60 s to 30 days, or none (polled by hand only);
* TAXII: ``collection`` (required), ``username`` and ``password_env`` — the NAME of the
  environment variable holding the secret, never the secret itself.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from core.markings import DEFAULT_TLP, Tlp, parse_tlp
from feeds.models import FeedKind
from feeds.rules.observables import ObservableType

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
ENV_PATTERN = r"^[A-Z_][A-Z0-9_]*$"
MIN_INTERVAL = 60
MAX_INTERVAL = 30 * 24 * 3600
ADDABLE = (FeedKind.STIX_URL, FeedKind.MISP_FEED, FeedKind.CSV, FeedKind.TAXII)
LIST_TYPES = (
    ObservableType.IPV4,
    ObservableType.IPV6,
    ObservableType.DOMAIN,
    ObservableType.URL,
    ObservableType.EMAIL,
    ObservableType.MD5,
    ObservableType.SHA1,
    ObservableType.SHA256,
)


def _tlp(value: Any) -> Any:
    return parse_tlp(value) if isinstance(value, str) else value


def _blank_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _slug(value: str) -> str:
    if not re.fullmatch(NAME_PATTERN, value):
        raise ValueError(
            "only lower-case letters, digits, - and _ (starting with a letter or digit)"
        )
    return value


def _env(value: str) -> str:
    if not re.fullmatch(ENV_PATTERN, value):
        raise ValueError(
            "the NAME of an environment variable (A-Z, 0-9 and _, e.g. VIGIE_TAXII_PASSWORD), "
            "never the secret itself"
        )
    return value


FeedName = Annotated[
    str,
    BeforeValidator(_lower),
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_slug),
    Field(description="a slug: lower-case letters, digits, - and _", pattern=NAME_PATTERN),
]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Optional200 = Annotated[Text200 | None, BeforeValidator(_blank_none)]
Env = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=100),
    AfterValidator(_env),
    Field(pattern=ENV_PATTERN),
]
EnvName = Annotated[Env | None, BeforeValidator(_blank_none)]
TlpLabel = Annotated[Tlp, BeforeValidator(_tlp)]


def check_url(value: str) -> str:
    """An ``http``/``https`` URL with a host and no whitespace (``ValueError`` otherwise)."""
    if any(c.isspace() for c in value):
        raise ValueError("a URL has no spaces")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        raise ValueError("not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("only http:// and https:// URLs")
    if not parts.hostname:
        raise ValueError("the URL names no host")
    return value


class FeedSettingsIn(BaseModel):
    """The changeable settings of a feed (everything but its name and kind)."""

    model_config = ConfigDict(extra="forbid")

    url: Url
    value_type: ObservableType | None = Field(None, description="csv: the values' type")
    column: int | None = Field(None, ge=1, le=1000, description="csv: 1-based column")
    delimiter: str | None = Field(None, min_length=1, max_length=1, description="csv: one char")
    tlp: TlpLabel = DEFAULT_TLP
    confidence: int = Field(50, ge=0, le=100)
    types: list[ObservableType] = Field(default_factory=list, description="kept; empty = all")
    interval_seconds: int | None = Field(None, ge=MIN_INTERVAL, le=MAX_INTERVAL)
    enabled: bool = True
    collection: Optional200 = None
    username: Optional200 = None
    password_env: EnvName = Field(None, description="the NAME of an environment variable")

    _url = field_validator("url")(check_url)

    @field_validator("types")
    @classmethod
    def _unique(cls, value: list[ObservableType]) -> list[ObservableType]:
        return list(dict.fromkeys(value))

    def check_kind(self, kind: FeedKind) -> dict[str, str]:
        """What does not fit ``kind`` (field → reason; empty when everything does)."""
        errors: dict[str, str] = {}
        if kind is FeedKind.CSV:
            if self.value_type is None:
                errors["value_type"] = "required for a csv feed (ipv4, domain, url, sha256…)"
            elif self.value_type not in LIST_TYPES:
                errors["value_type"] = f"{self.value_type.value} values cannot be listed"
        else:
            for name in ("value_type", "column", "delimiter"):
                if getattr(self, name) is not None:
                    errors[name] = "only for csv feeds"
        if kind is FeedKind.TAXII and not self.collection:
            errors["collection"] = "required for a taxii feed (the collection's id)"
        if kind is not FeedKind.TAXII and self.collection:
            errors["collection"] = "only for taxii feeds"
        if self.username and not self.password_env:
            errors["password_env"] = "a username needs the variable holding its password"  # noqa: S105
        return errors

    def columns(self, kind: FeedKind) -> dict[str, Any]:
        """The values to store on a :class:`feeds.models.Feed` of ``kind``."""
        csv = kind is FeedKind.CSV
        return {
            "url": self.url,
            "value_type": self.value_type.value if self.value_type else None,
            "column": (self.column or 1) if csv else None,
            "delimiter": (self.delimiter or ",") if csv else None,
            "default_tlp": self.tlp,
            "confidence": self.confidence,
            "types": [t.value for t in self.types],
            "interval_seconds": self.interval_seconds,
            "enabled": self.enabled,
            "collection": self.collection,
            "username": self.username,
            "password_env": self.password_env,
        }


class FeedIn(FeedSettingsIn):
    """A new feed."""

    name: FeedName
    kind: FeedKind

    @model_validator(mode="after")
    def _addable(self) -> FeedIn:
        if self.kind not in ADDABLE:
            raise ValueError("kind must be one of " + ", ".join(k.value for k in ADDABLE))
        return self


class FeedOut(BaseModel):
    """A feed as the API shows it: the credentials' variable name, never a secret."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    kind: FeedKind
    url: str | None
    collection: str | None
    username: str | None
    password_env: str | None
    value_type: str | None
    column: int | None
    delimiter: str | None
    default_tlp: Tlp
    confidence: int
    types: list[str]
    interval_seconds: int | None
    enabled: bool
    checkpoint: str | None
    last_run_at: dt.datetime | None
    last_status: str | None
    last_counts: dict[str, int]
    next_poll_at: dt.datetime | None = None


class RunOut(BaseModel):
    """One run of a feed: its counts and its rejections (object id or line, and why)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    feed: str
    trigger: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    document: str | None
    new: int
    updated: int
    unchanged: int
    revoked: int
    expired: int
    rejected: int
    skipped: int
    rejections: list[dict[str, str]]
    error: str | None
    checkpoint_before: str | None
    checkpoint_after: str | None
