"""The notification centre's tables (typed ORM, Flask-free; migration 0012).

* ``notifications``: one row per (user, thing to tell them): what (``kind``, ``deadline``),
  about which incident, caused by which domain event and actor; read or not; e-mail still due
  or not. The list reads ``(user_id, id)`` newest first; the bell counts the partial index of
  unread rows; the mail job reads the partial index of rows whose e-mail is due.
* ``notification_preferences``: per user — e-mail immediately, in a daily digest or not at all;
  when the last digest went. Its ``on_duty`` column is no longer read: duty is per centre
  (``centre_members.on_duty`` and the rota's shifts, :func:`core.auth.centres.on_duty`; migration
  0037 copied the flags to the national centre) — a later migration may drop it.
* ``incident_sla_alerts``: the SLA watch's marks, one per (incident, due date, state,
  ``due_at``): each state of each due date is announced once (a new due date, after a priority
  change, is announced again).
* ``incident_answers_waiting``: incidents whose reporter answered and the CERT has not replied
  since (the queue's "answer waiting" marker).
* ``notification_reporter_mails``: status-change e-mails to the reporter decided by a handler,
  sent by the mail job (which has the public URL for the ``/track`` link).

The SLA watch also needs an index on ``incidents`` (the acknowledgement due dates of the
incidents not yet acknowledged), declared here with the queries that use it.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, StrEnumType
from core.identity.models import User
from incidents.events import SlaDeadline
from incidents.models import Incident, IncidentStatus


class NotificationKind(enum.StrEnum):
    NEW_INCIDENT = "new_incident"  # the centre's leads and staff on duty
    # a new incident of CERT_ESCALATION_PRIORITIES, to the centre's staff on duty (urgent)
    URGENT_INCIDENT = "urgent_incident"
    ESCALATED = "escalated"  # not acknowledged in time: an escalation step's people (urgent)
    TRANSFERRED = "transferred"  # moved to another centre: that centre's staff on duty
    ASSIGNED = "assigned"
    REPORTER_ANSWERED = "reporter_answered"
    SLA_DUE_SOON = "sla_due_soon"
    SLA_BREACHED = "sla_breached"
    MENTIONED = "mentioned"  # @name in an internal comment
    INTEL_MATCH = "intel_match"  # retro-hunt: new intelligence met an observable
    PLAYBOOK = "playbook"  # a playbook's step (its message is on the incident's timeline)


# Mailed at the mail job's next run even to users who chose the daily digest (never to those
# who turned e-mails off): a page for the staff on duty, an escalation.
URGENT_KINDS = frozenset({NotificationKind.URGENT_INCIDENT, NotificationKind.ESCALATED})


class EmailMode(enum.StrEnum):
    IMMEDIATE = "immediate"  # at the mail job's next run (CERT_NOTIFY_MAIL_INTERVAL)
    DIGEST = "digest"  # once a day, at CERT_NOTIFY_DIGEST_HOUR
    OFF = "off"


DEFAULT_EMAIL_MODE = EmailMode.IMMEDIATE


class SlaState(enum.StrEnum):
    DUE_SOON = "due_soon"
    BREACHED = "breached"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # the list, newest first, keyset on id
        Index("ix_notifications_user_id_id", "user_id", "id"),
        # the bell's count
        Index(
            "ix_notifications_unread",
            "user_id",
            sqlite_where=text("read_at IS NULL"),
            postgresql_where=text("read_at IS NULL"),
        ),
        # the mail job's scan
        Index(
            "ix_notifications_mail_pending",
            "user_id",
            "id",
            sqlite_where=text("mail_pending"),
            postgresql_where=text("mail_pending"),
        ),
        # one notification per user and event: a guard beside the dispatcher's at-most-once
        UniqueConstraint("user_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[NotificationKind] = mapped_column(StrEnumType(NotificationKind, 24))
    deadline: Mapped[SlaDeadline | None] = mapped_column(StrEnumType(SlaDeadline, 16))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("domain_events.id", ondelete="SET NULL")
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]
    read_at: Mapped[dt.datetime | None]
    mail_pending: Mapped[bool] = mapped_column(default=False)

    incident: Mapped[Incident] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class NotificationPreference(Base):
    """A user's settings; a user without a row has the defaults (e-mail immediately, off duty)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    email: Mapped[EmailMode] = mapped_column(StrEnumType(EmailMode, 16), default=DEFAULT_EMAIL_MODE)
    on_duty: Mapped[bool] = mapped_column(default=False)  # retired: see the module
    last_digest_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime]


class SlaAlertMark(Base):
    __tablename__ = "incident_sla_alerts"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    deadline: Mapped[SlaDeadline] = mapped_column(StrEnumType(SlaDeadline, 16), primary_key=True)
    state: Mapped[SlaState] = mapped_column(StrEnumType(SlaState, 16), primary_key=True)
    due_at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime]


class EscalationMark(Base):
    """An escalation step taken for an incident not acknowledged by its due time (one per
    incident, step and acknowledgement due time: a new due time after a priority change is
    escalated again); see ``incidents.notifications.escalation``."""

    __tablename__ = "incident_escalations"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[str] = mapped_column(String(16), primary_key=True)  # "leads", "national"
    due_at: Mapped[dt.datetime] = mapped_column(primary_key=True)  # the ack due time escalated
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]


class AnswerWaiting(Base):
    __tablename__ = "incident_answers_waiting"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    since: Mapped[dt.datetime]  # the reporter's first answer not replied to
    timeline_event_id: Mapped[int]  # that answer's line


class ReporterMail(Base):
    """A status-change e-mail the reporter is due; deleted once queued in the outbox."""

    __tablename__ = "notification_reporter_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("domain_events.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[IncidentStatus] = mapped_column(StrEnumType(IncidentStatus, 16))
    timeline_event_id: Mapped[int | None]  # the status line (its resolution summary)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime]


# The SLA watch's scan of acknowledgement due dates (incidents.notifications.sla_watch): only
# the incidents not yet acknowledged, by due date (the resolution scan uses the queue's
# ix_incidents_status_sla: status, resolve_due_at).
UNACKNOWLEDGED = text("acknowledged_at IS NULL")
Index(
    "ix_incidents_unacknowledged_ack_due",
    Incident.__table__.c.ack_due_at,
    sqlite_where=UNACKNOWLEDGED,
    postgresql_where=UNACKNOWLEDGED,
)
