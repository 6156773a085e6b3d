"""What a lead gives for a trigger or a schedule, and what the API and ``--json`` show (pydantic
v2; pure: no database).

The rules that need no database are here, each refusal a :class:`core.errors.Message` that the
pages translate: RSIT class and type ids (:mod:`incidents.rules.taxonomy`; with classes given,
each type must belong to one of them, else the trigger could never match), priorities P1–P4,
TLP 2.0 labels (``amber`` and legacy ``TLP:WHITE`` read as :func:`core.markings.parse_tlp` does),
incident statuses (only for the ``status`` event), five-field cron expressions and IANA time
zones (:mod:`playbooks.rules.cron`). That organisations, sectors and centres exist is checked
by :mod:`playbooks.automation.services`.

:meth:`TriggerConditions.stored` is the normalised form kept in ``playbook_triggers.conditions``
(the format documented on :class:`playbooks.models.PlaybookTrigger`): every list sorted and
without duplicates, TLP labels canonical, sectors and centre slugs in lower case, empty keys
left out.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.errors import reason_of
from core.i18n import N_
from core.inputs import MAX_ID
from core.markings import parse_tlp
from incidents.models import IncidentStatus, Priority
from incidents.rules.taxonomy import rsit_classes
from playbooks.models import TriggerEvent
from playbooks.rules.cron import MAX_CRON, parse_cron, zone

MAX_ITEMS = 200  # of each condition list
MAX_SECTOR = 64
MAX_CENTRE = 64
Text = Annotated[str, Field(max_length=100)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
CONDITION_KEYS = (
    "categories",
    "types",
    "min_priority",
    "tlp",
    "organisation_ids",
    "sectors",
    "centres",
    "statuses",
)


def _texts(values: list[str]) -> list[str]:
    return sorted({value.strip() for value in values if value.strip()})


class TriggerConditions(BaseModel):
    """All optional; every one given must hold for the trigger to start its playbook."""

    model_config = ConfigDict(extra="forbid")

    categories: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    types: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    min_priority: Text | None = None
    tlp: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    organisation_ids: list[Id] = Field(default_factory=list, max_length=MAX_ITEMS)
    sectors: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    centres: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    statuses: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)

    @field_validator("categories")
    @classmethod
    def _categories(cls, values: list[str]) -> list[str]:
        classes = rsit_classes()
        found = _texts(values)
        for value in found:
            if value not in classes:
                raise ValueError(
                    N_(
                        "unknown RSIT class %(value)s; valid classes: %(valid)s",
                        value=repr(value),
                        valid=", ".join(classes),
                    )
                )
        return found

    @field_validator("types")
    @classmethod
    def _types(cls, values: list[str]) -> list[str]:
        known = [t.id for c in rsit_classes().values() for t in c.types]
        found = _texts(values)
        for value in found:
            if value not in known:
                raise ValueError(
                    N_(
                        "unknown RSIT type %(value)s; valid types: %(valid)s",
                        value=repr(value),
                        valid=", ".join(known),
                    )
                )
        return found

    @field_validator("min_priority")
    @classmethod
    def _priority(cls, value: str | None) -> str | None:
        text = (value or "").strip().upper()
        if not text:
            return None
        if text not in {p.value for p in Priority}:
            raise ValueError(
                N_("%(value)s is not a priority; give P1, P2, P3 or P4", value=repr(value))
            )
        return text

    @field_validator("tlp")
    @classmethod
    def _tlp(cls, values: list[str]) -> list[str]:
        try:
            return sorted({parse_tlp(value).value for value in values if value.strip()})
        except ValueError as exc:
            raise ValueError(reason_of(exc)) from None

    @field_validator("organisation_ids")
    @classmethod
    def _organisations(cls, values: list[int]) -> list[int]:
        return sorted(set(values))

    @field_validator("sectors")
    @classmethod
    def _sectors(cls, values: list[str]) -> list[str]:
        found = sorted({value.strip().lower() for value in values if value.strip()})
        for value in found:
            if len(value) > MAX_SECTOR:
                raise ValueError(N_("a sector has at most %(n)s characters", n=MAX_SECTOR))
        return found

    @field_validator("centres")
    @classmethod
    def _centres(cls, values: list[str]) -> list[str]:
        found = sorted({value.strip().lower() for value in values if value.strip()})
        for value in found:
            if len(value) > MAX_CENTRE:
                raise ValueError(N_("a centre's slug has at most %(n)s characters", n=MAX_CENTRE))
        return found

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, values: list[str]) -> list[str]:
        valid = [s.value for s in IncidentStatus]
        found = _texts(values)
        for value in found:
            if value not in valid:
                raise ValueError(
                    N_(
                        "unknown incident status %(value)s; valid statuses: %(valid)s",
                        value=repr(value),
                        valid=", ".join(valid),
                    )
                )
        return found

    def stored(self) -> dict[str, Any]:
        """The normalised ``conditions`` column: the keys that say something, in order."""
        values = self.model_dump()
        return {key: values[key] for key in CONDITION_KEYS if values[key]}

    def problems(self, event: TriggerEvent) -> dict[str, str]:
        """What cannot hold together: types outside the classes given, statuses on an event
        other than a status change (field → reason)."""
        errors: dict[str, str] = {}
        if self.categories and self.types:
            classes = rsit_classes()
            allowed = {t.id for c in self.categories for t in classes[c].types}
            stray = [t for t in self.types if t not in allowed]
            if stray:
                errors["conditions.types"] = N_(
                    "%(types)s not in the classes chosen (%(classes)s): the trigger could never "
                    "start",
                    types=", ".join(stray),
                    classes=", ".join(self.categories),
                )
        if self.statuses and event is not TriggerEvent.STATUS:
            errors["conditions.statuses"] = N_(
                "statuses apply only to the event 'status' (a status change)"
            )
        return errors


class TriggerIn(BaseModel):
    """A trigger: an incident event, its conditions, enabled or not."""

    model_config = ConfigDict(extra="forbid")

    event: TriggerEvent
    conditions: TriggerConditions = Field(default_factory=TriggerConditions)
    enabled: bool = True

    @field_validator("event", mode="before")
    @classmethod
    def _event(cls, value: Any) -> Any:
        valid = [e.value for e in TriggerEvent]
        if not isinstance(value, str) or value.strip().lower() not in valid:
            raise ValueError(
                N_(
                    "unknown event %(value)s; valid events: %(valid)s",
                    value=repr(value),
                    valid=", ".join(valid),
                )
            )
        return value.strip().lower()


class TriggerPatch(BaseModel):
    """``PATCH``: the fields given replace the trigger's (``conditions`` as a whole)."""

    model_config = ConfigDict(extra="forbid")

    event: Text | None = None
    conditions: dict[str, Any] | None = None
    enabled: bool | None = None


class ScheduleIn(BaseModel):
    """A schedule: a cron expression in a time zone (``None``: the CERT's, ``CERT_TIMEZONE``),
    for every organisation (``organisation_ids`` ``None`` or empty and no ``centre``), the ones
    listed, or the constituency of the vigilance centre ``centre`` (a slug) — not both."""

    model_config = ConfigDict(extra="forbid")

    cron: str = Field(max_length=MAX_CRON * 2)
    timezone: str | None = Field(default=None, max_length=64)
    organisation_ids: list[Id] | None = Field(default=None, max_length=MAX_ITEMS)
    centre: str | None = Field(default=None, max_length=MAX_CENTRE)
    enabled: bool = True

    @field_validator("centre")
    @classmethod
    def _centre(cls, value: str | None) -> str | None:
        return (value or "").strip().lower() or None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        text = (value or "").strip()
        if not text:
            return None
        try:
            zone(text)
        except ValueError:
            raise ValueError(
                N_("unknown time zone %(value)s (an IANA name, e.g. Africa/Casablanca)",
                   value=repr(value))
            ) from None  # fmt: skip
        return text

    @field_validator("organisation_ids")
    @classmethod
    def _organisations(cls, values: list[int] | None) -> list[int] | None:
        return sorted(set(values)) if values else None

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        text = " ".join(value.split())
        if len(text.split(" ")) != 5:
            raise ValueError(
                N_("%(value)s: a cron expression has five fields (minute hour day month weekday)",
                   value=repr(value))
            )  # fmt: skip
        try:
            parse_cron(text, "UTC")
        except ValueError as exc:
            raise ValueError(N_("invalid cron expression: %(reason)s", reason=str(exc))) from None
        return text


class SchedulePatch(BaseModel):
    """``PATCH``: the fields given replace the schedule's (``organisation_ids`` and ``centre``
    null: every organisation); giving organisations clears the centre and a centre clears the
    organisations, unless both are given (then refused: one or the other)."""

    model_config = ConfigDict(extra="forbid")

    cron: str | None = Field(default=None, max_length=MAX_CRON * 2)
    timezone: str | None = Field(default=None, max_length=64)
    organisation_ids: list[Id] | None = Field(default=None, max_length=MAX_ITEMS)
    centre: str | None = Field(default=None, max_length=MAX_CENTRE)
    enabled: bool | None = None


class TriggerOut(BaseModel):
    id: int
    cacao_id: str
    playbook_id: int | None = Field(description="The current version's id")
    playbook_name: str | None
    event: TriggerEvent
    conditions: dict[str, Any]
    enabled: bool
    created_at: dt.datetime
    updated_at: dt.datetime | None
    last_fired_at: dt.datetime | None = Field(description="When it last started a run")


class ScheduleOut(BaseModel):
    id: int
    cacao_id: str
    playbook_id: int | None = Field(description="The current version's id")
    playbook_name: str | None
    cron: str
    timezone: str
    organisation_ids: list[int] | None = Field(
        description="null (and no centre): every organisation"
    )
    centre: str | None = Field(description="The vigilance centre whose constituency it runs for")
    enabled: bool
    next_fire_at: dt.datetime | None
    last_fired_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime | None
