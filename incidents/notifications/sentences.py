"""What a notification says, as translatable sentences (Flask-free, marked only).

A notification shows its incident's reference and one of these sentences — and the incident's
title only while its reader may still see the incident. Pages translate them with Flask-Babel,
e-mails with the recipient's catalogue (the same message ids, marked here for ``make messages``).
"""

from __future__ import annotations

from incidents.events import SlaDeadline
from incidents.notifications.models import NotificationKind


def N_(message: str) -> str:  # noqa: N802 — the gettext convention for "mark, translate later"
    return message


_PLAIN: dict[NotificationKind, str] = {
    NotificationKind.NEW_INCIDENT: N_("New incident %(reference)s"),
    NotificationKind.ASSIGNED: N_("%(reference)s was assigned to you"),
    NotificationKind.REPORTER_ANSWERED: N_("The reporter answered on %(reference)s"),
    NotificationKind.MENTIONED: N_("You were mentioned in a comment on %(reference)s"),
    NotificationKind.INTEL_MATCH: N_("New threat-intel match on %(reference)s"),
    NotificationKind.PLAYBOOK: N_("A playbook asks for your attention on %(reference)s"),
    NotificationKind.URGENT_INCIDENT: N_("Urgent: new incident %(reference)s to acknowledge"),
    NotificationKind.ESCALATED: N_("Escalation: %(reference)s was not acknowledged in time"),
    NotificationKind.TRANSFERRED: N_("%(reference)s was transferred to your centre"),
}
_SLA: dict[tuple[NotificationKind, SlaDeadline], str] = {
    (NotificationKind.SLA_DUE_SOON, SlaDeadline.ACKNOWLEDGEMENT): N_(
        "The acknowledgement of %(reference)s is due soon"
    ),
    (NotificationKind.SLA_DUE_SOON, SlaDeadline.RESOLUTION): N_(
        "The resolution of %(reference)s is due soon"
    ),
    (NotificationKind.SLA_BREACHED, SlaDeadline.ACKNOWLEDGEMENT): N_(
        "The acknowledgement deadline of %(reference)s has passed"
    ),
    (NotificationKind.SLA_BREACHED, SlaDeadline.RESOLUTION): N_(
        "The resolution deadline of %(reference)s has passed"
    ),
}


def sentence(kind: NotificationKind, deadline: SlaDeadline | None) -> str:
    """The message id (English source, with a ``%(reference)s`` placeholder) of a notification."""
    if kind in _PLAIN:
        return _PLAIN[kind]
    return _SLA[(kind, deadline or SlaDeadline.RESOLUTION)]
