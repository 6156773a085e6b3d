"""Incidents, their observables, attachments and timeline (typed ORM, Flask-free)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from core.db import Base, StrEnumType
from core.identity.centres import Centre, national_id
from core.identity.models import Organisation, User
from core.markings import Pap, Tlp
from incidents.vocabulary import (
    OPEN_STATUSES,
    TRANSITIONS,
    IncidentStatus,
    Level,
    Priority,
    ReporterState,
    ShareMode,
)

__all__ = [  # the vocabulary, re-exported (incidents.vocabulary)
    "OPEN_STATUSES",
    "TRANSITIONS",
    "IncidentStatus",
    "Level",
    "Priority",
    "ReporterState",
    "ShareMode",
]


class ReferenceCounter(Base):
    """Last reference number used per year; incremented inside the submitting transaction."""

    __tablename__ = "incident_reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int]


# Resolutions still due (rejected and duplicate reports have none): the predicate of the partial
# index ``ix_incidents_unresolved``, written the same in the queries that use it (SQLite uses a
# partial index only when the query's WHERE holds its terms as written, literals included).
UNRESOLVED = "resolved_at IS NULL AND status NOT IN ('duplicate', 'rejected')"

# PostgreSQL-specific: INCLUDE (id) in the visibility indexes (SQLite's hold the rowid anyway)
_ID: dict[str, Any] = {"postgresql_include": ["id"]}


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_org_received", "organisation_id", "received_at"),
        # queue (migration 0004): each filter column leads, then the sort, then the columns
        # incidents.access.visible() reads (tlp, assignee_id, and on PostgreSQL the id its
        # participant check reads, migration 0015), so that a page's count is an index-only scan
        Index("ix_incidents_status_priority", "status", "priority", "tlp", "assignee_id", **_ID),
        Index("ix_incidents_received_at", "received_at"),
        Index("ix_incidents_assignee", "assignee_id", "status", "received_at", "tlp", **_ID),
        Index("ix_incidents_status_received", "status", "received_at", "tlp", "assignee_id", **_ID),
        Index(
            "ix_incidents_status_sla",
            "status",
            "resolve_due_at",
            "ack_due_at",
            "acknowledged_at",
            "tlp",
            "assignee_id",
            **_ID,
        ),
        Index(
            "ix_incidents_priority_received", "priority", "received_at", "tlp", "assignee_id", **_ID
        ),
        Index(
            "ix_incidents_category_received", "category", "received_at", "tlp", "assignee_id", **_ID
        ),
        Index("ix_incidents_tlp_received", "tlp", "received_at", "assignee_id", **_ID),
        # an RSIT class sorted by priority (``?category=…&sort=priority``; migration 0041): the
        # page walks the index in its order instead of sorting every incident of the class
        Index(
            "ix_incidents_category_priority",
            "category",
            "priority",
            "id",
            postgresql_include=["tlp", "assignee_id"],
        ),
        # a centre's queue (its members' default view, ``?centre=``; migration 0037)
        Index(
            "ix_incidents_centre_received",
            "centre_id",
            "received_at",
            "status",
            "priority",
            "tlp",
            "assignee_id",
            **_ID,
        ),
        # the dashboard's live part (incidents.reporting.dashboard): SLAs not met yet but due
        Index(
            "ix_incidents_unacknowledged",
            "received_at",
            "ack_due_at",
            "priority",
            "organisation_id",
            "tlp",
            "assignee_id",
            sqlite_where=text("acknowledged_at IS NULL"),
            postgresql_where=text("acknowledged_at IS NULL"),
            **_ID,
        ),  # fmt: skip
        Index(
            "ix_incidents_unresolved",
            "received_at",
            "resolve_due_at",
            "status",
            "priority",
            "organisation_id",
            "tlp",
            "assignee_id",
            sqlite_where=text(UNRESOLVED),
            postgresql_where=text(UNRESOLVED),
            **_ID,
        ),  # fmt: skip
        Index(
            "ix_incidents_org_source_ref",
            "organisation_id",
            "source_ref",
            sqlite_where=text("source_ref IS NOT NULL"),
            postgresql_where=text("source_ref IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # the vigilance centre it belongs to: routed on arrival (core.identity.centres.route),
    # moved by a transfer; rows written without one go to the national centre
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), default=national_id())
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    detected_at: Mapped[dt.datetime | None]
    reported_at: Mapped[dt.datetime]  # when the reporter says they reported it
    received_at: Mapped[dt.datetime]  # when Vigie received it (SLA clock start)
    affected_assets: Mapped[list[str]] = mapped_column(JSON, default=list)
    users_affected: Mapped[int | None]
    systems_affected: Mapped[int | None]
    reporter_state: Mapped[ReporterState | None] = mapped_column(StrEnumType(ReporterState, 16))
    actions_taken: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64))  # RSIT class id
    type: Mapped[str | None] = mapped_column(String(64))  # RSIT type id
    tlp: Mapped[Tlp] = mapped_column(StrEnumType(Tlp, 20))
    pap: Mapped[Pap] = mapped_column(StrEnumType(Pap, 12))
    impact: Mapped[Level] = mapped_column(StrEnumType(Level, 10))
    urgency: Mapped[Level] = mapped_column(StrEnumType(Level, 10))
    priority: Mapped[Priority] = mapped_column(StrEnumType(Priority, 2))
    priority_reason: Mapped[str | None] = mapped_column(Text)  # set when an analyst overrides
    significant: Mapped[bool] = mapped_column(default=False)
    ack_due_at: Mapped[dt.datetime]
    resolve_due_at: Mapped[dt.datetime]
    early_warning_due_at: Mapped[dt.datetime | None]
    notification_due_at: Mapped[dt.datetime | None]
    final_report_due_at: Mapped[dt.datetime | None]
    acknowledged_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    status: Mapped[IncidentStatus] = mapped_column(
        StrEnumType(IncidentStatus, 16), default=IncidentStatus.NEW
    )
    resolution: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source_ref: Mapped[str | None] = mapped_column(String(200))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    possible_duplicates: Mapped[list[str]] = mapped_column(JSON, default=list)  # references
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime] = mapped_column(index=True)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    centre: Mapped[Centre] = relationship(lazy="joined")
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    # ordered by (incident_id, id), not id alone: loading the observables of a page of incidents
    # (``selectinload``: incident_id IN (…)) then walks their unique (incident_id, type, value)
    # index, which gives that order but for the last column; by id alone, SQLite statistics
    # taken on a nearly empty table made the planner read the whole table in id order instead.
    observables: Mapped[list[IncidentObservable]] = relationship(
        back_populates="incident",
        order_by="(IncidentObservable.incident_id, IncidentObservable.id)",
        cascade="all, delete-orphan",
        foreign_keys="IncidentObservable.incident_id",
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="incident", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    participants: Mapped[list[IncidentParticipant]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", lazy="select"
    )
    shares: Mapped[list[IncidentShare]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", lazy="select"
    )
    events: WriteOnlyMapped[IncidentEvent] = relationship(
        back_populates="incident",
        order_by="IncidentEvent.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"<Incident {self.reference}>"


class IncidentParticipant(Base):
    """A CERT user named on an incident: with the assignee and leads, the only analysts who
    see a ``TLP:RED`` incident (see :mod:`incidents.access`)."""

    __tablename__ = "incident_participants"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[dt.datetime]

    incident: Mapped[Incident] = relationship(back_populates="participants")


class IncidentShare(Base):
    """An incident shared with another vigilance centre than its own (see
    :mod:`incidents.access`): its members see it (``read``) or see and work it (``work``).
    ``TLP:RED`` still stays with the assignee, named participants and leads."""

    __tablename__ = "incident_shares"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    centre_id: Mapped[int] = mapped_column(
        ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    mode: Mapped[ShareMode] = mapped_column(StrEnumType(ShareMode, 8))
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    shared_at: Mapped[dt.datetime]
    reason: Mapped[str | None] = mapped_column(Text)

    incident: Mapped[Incident] = relationship(back_populates="shares")
    centre: Mapped[Centre] = relationship(lazy="joined")


class IncidentObservable(Base):
    """An indicator found in (or given with) an incident; stored once per (type, value).

    ``origin_incident_id`` is the incident whose report it came from when a merge moved it here
    (``None``: this incident's own). Its organisation and TLP are the origin's: reporter-facing
    views show only observables whose origin is their organisation (:mod:`incidents.origins`).
    """

    __tablename__ = "incident_observables"
    __table_args__ = (
        UniqueConstraint("incident_id", "type", "value"),
        Index("ix_incident_observables_value", "value", "type"),
        # the TAXII server's order (incidents.sharing.collections; migration 0027)
        Index("ix_incident_observables_tlp_created", "tlp", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    origin_incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True, default=None
    )
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(2048))
    sources: Mapped[list[str]] = mapped_column(
        JSON, default=list
    )  # title, description, api, attachment:…
    tlp: Mapped[Tlp] = mapped_column(StrEnumType(Tlp, 20))
    created_at: Mapped[dt.datetime]
    # the MISP warning lists the value is on (known-benign: never raises a match); see
    # incidents.intel
    warning_lists: Mapped[list[str]] = mapped_column(JSON, default=list)

    incident: Mapped[Incident] = relationship(
        back_populates="observables", foreign_keys=[incident_id]
    )
    origin: Mapped[Incident | None] = relationship(foreign_keys=[origin_incident_id])


class Attachment(Base):
    """A file sent with an incident, stored by SHA-256 outside the web root."""

    __tablename__ = "incident_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))  # sniffed, not trusted from the client
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime]
    # the reporter's answer (``reporter_reply`` event) the file came with; NULL otherwise
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_events.id", ondelete="SET NULL"), index=True, default=None
    )

    incident: Mapped[Incident] = relationship(back_populates="attachments")


class IncidentEvent(Base):
    """One line of an incident's timeline. ``public`` events are shown to the reporter."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident_id_id", "incident_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(
        String(40)
    )  # created, status, priority, comment, reply, mail…
    public: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    incident: Mapped[Incident] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()  # the timeline loads it with the events

    @property
    def actor_name(self) -> str:
        """Who acted, as people read it: the user's name, else the label (e-mail or system)."""
        return self.actor.name if self.actor is not None and self.actor.name else self.actor_label


class IdempotencyKey(Base):
    """``Idempotency-Key`` of an API submission: same key + same body → same incident."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_idempotency_keys_created_at", "created_at"),  # the hourly purge of expired keys
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime]


class IncidentTask(Base):
    """A response task of an incident (from a template of its RSIT class, or added by hand)."""

    __tablename__ = "incident_tasks"
    __table_args__ = (Index("ix_incident_tasks_incident_position", "incident_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    template: Mapped[str | None] = mapped_column(String(64))  # template id, when from one
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_at: Mapped[dt.datetime | None]
    done_at: Mapped[dt.datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime]
    position: Mapped[int] = mapped_column(default=0)

    incident: Mapped[Incident] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])

    @property
    def done(self) -> bool:
        return self.done_at is not None


class IncidentLink(Base):
    """Two incidents an analyst linked ("related"); stored once per direction so that each
    incident's links are one indexed lookup."""

    __tablename__ = "incident_links"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    linked_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default="related")
    created_at: Mapped[dt.datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    linked: Mapped[Incident] = relationship(foreign_keys=[linked_id])
