"""Pydantic types of the analyst workspace API (status, assignment, priority, correspondence,
timeline, tasks, links and merges). The OpenAPI document is generated from them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, StringConstraints

from incidents.intake.schemas import AwareDateTime, visible_bidi
from incidents.models import IncidentStatus, ShareMode
from incidents.rules.priority import Priority

Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StatusChange(_In):
    status: IncidentStatus = Field(description="Target status; must follow the workflow")
    resolution: str | None = Field(
        default=None, max_length=20_000, description="Resolution summary (required to resolve)"
    )
    reason: str | None = Field(
        default=None,
        max_length=2_000,
        description="Why. Required for `rejected` and `duplicate`, and then shown to the "
        "reporter (status page, status e-mail); internal otherwise",
    )
    duplicate_of: Reference | None = Field(
        default=None,
        description="Required for `duplicate`: the reference of the original incident (one you "
        "may see, not itself a duplicate). The reporter reads it only when they may see it",
    )
    assignee: EmailStr | None = Field(
        default=None,
        description="Resolving an unassigned incident needs an owner: the e-mail of active CERT "
        "staff, assigned before the change (ignored when the incident has an assignee)",
    )


class Assignment(_In):
    assignee: EmailStr | None = Field(description="E-mail of active CERT staff; null unassigns")


class PriorityChange(_In):
    priority: Priority
    reason: str = Field(min_length=1, max_length=2_000, description="Why the priority changes")


class MessageIn(_In):
    body: str = Field(
        min_length=1,
        max_length=20_000,
        description="Markdown (CommonMark; raw HTML is shown as text, no images), stored and "
        "returned as sanitised HTML (p, br, strong, em, code, pre, ul, ol, li, blockquote, hr, "
        "h4-h6, a; absolute http(s) and mailto links only, rel=noopener noreferrer nofollow)",
    )


AttachmentId = Annotated[int, Field(ge=1, le=2**31 - 1)]  # an INTEGER key on both databases


class ReplyIn(MessageIn):
    attachments: list[AttachmentId] = Field(
        default_factory=list,
        max_length=10,
        description="Reporters only: ids of files they uploaded to this incident with "
        "`POST /incidents/{reference}/attachments` and have not sent with an answer yet; they "
        "are linked to this answer (422 for any other id)",
    )


class EventOut(BaseModel):
    """One line of the timeline. Reporters see only public events, with the CERT's side shown
    as ``CERT`` and only the public part of ``data`` (new status, message bodies)."""

    id: int
    at: dt.datetime
    kind: str = Field(description="created, status, assignment, priority, comment, reply, …")
    actor: str = Field(description="Who acted (e-mail, system label, or CERT for reporters)")
    actor_name: str = Field(description="Their name (the label when they have none)")
    public: bool = Field(description="Shown to the reporter")
    data: dict[str, Any]


class TaskIn(_In):
    title: Annotated[str, BeforeValidator(visible_bidi)] = Field(
        min_length=1, max_length=300, description="Bidirectional controls shown as ⟨U+202E⟩"
    )
    assignee: EmailStr | None = Field(default=None, description="E-mail of active CERT staff")
    due_at: AwareDateTime | None = None


class TaskUpdate(_In):
    done: bool


class TaskOut(BaseModel):
    id: int
    title: str
    template: str | None = Field(description="Template id when created from one")
    assignee: str | None = Field(description="E-mail of the assignee")
    due_at: dt.datetime | None
    done: bool
    done_at: dt.datetime | None
    created_at: dt.datetime
    position: int


class TasksAdded(BaseModel):
    items: list[TaskOut]


class TemplatesIn(_In):
    locale: str = Field(default="fr", pattern=r"^(fr|en|ar)$", description="Language of titles")


class MergeIn(_In):
    into: Reference = Field(description="Reference of the surviving incident")
    confirm_organisations: (
        list[Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]] | None
    ) = Field(
        default=None,
        max_length=2,
        description="Required when the two incidents belong to different organisations (leads "
        'only): the slugs of both organisations, e.g. ["min-sante", "min-interieur"]',
    )


class LinkIn(_In):
    reference: Reference = Field(description="Reference of the incident to link")


class LinksOut(BaseModel):
    reference: str
    linked: list[str] = Field(description="References of the linked incidents you may see")


CentreSlug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]


class TransferIn(_In):
    centre: CentreSlug = Field(description="Slug of the vigilance centre to move the incident to")
    reason: Reason = Field(description="Why (internal: shown on the timeline to CERT staff)")


class ShareIn(_In):
    centre: CentreSlug = Field(description="Slug of another vigilance centre")
    mode: ShareMode = Field(
        description="read: its members see the incident; work: they see and work it. Sharing "
        "again with the same centre changes the mode"
    )
    reason: Reason = Field(description="Why (internal: shown on the timeline to CERT staff)")
