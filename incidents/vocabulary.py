"""The incidents' vocabulary (Flask-free, no table): levels, priorities, statuses and their
workflow, the reporter's state, what a centre an incident is shared with may do.
:mod:`incidents.models` re-exports every name, so ``from incidents.models import Priority`` still
works."""

from __future__ import annotations

import enum


class Level(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Priority(enum.StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class IncidentStatus(enum.StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


# Allowed workflow transitions; enforced by the service layer.
TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.NEW: frozenset(
        {IncidentStatus.TRIAGED, IncidentStatus.REJECTED, IncidentStatus.DUPLICATE}
    ),
    IncidentStatus.TRIAGED: frozenset(
        {
            IncidentStatus.IN_PROGRESS,
            IncidentStatus.RESOLVED,
            IncidentStatus.REJECTED,
            IncidentStatus.DUPLICATE,
        }
    ),
    IncidentStatus.IN_PROGRESS: frozenset({IncidentStatus.RESOLVED, IncidentStatus.DUPLICATE}),
    IncidentStatus.RESOLVED: frozenset({IncidentStatus.CLOSED, IncidentStatus.IN_PROGRESS}),
    IncidentStatus.CLOSED: frozenset({IncidentStatus.IN_PROGRESS}),  # reopen
    IncidentStatus.REJECTED: frozenset({IncidentStatus.TRIAGED}),
    IncidentStatus.DUPLICATE: frozenset(),
}
OPEN_STATUSES = frozenset({IncidentStatus.NEW, IncidentStatus.TRIAGED, IncidentStatus.IN_PROGRESS})


class ReporterState(enum.StrEnum):
    """The situation on the reporter's side when reporting."""

    ONGOING = "ongoing"
    CONTAINED = "contained"
    RESOLVED = "resolved"


class ShareMode(enum.StrEnum):
    """What a centre an incident is shared with may do (joint investigation)."""

    READ = "read"  # see it (pages, API, exports), not change it
    WORK = "work"  # see and work it as if it were the centre's own
