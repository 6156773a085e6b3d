"""What the held-mail queue's pages call things (English source strings; Flask-free).

Only *marked* here (``N_``, extracted by ``make messages``); the pages translate them when
rendering (``_(label)``).
"""

from __future__ import annotations

from incidents.mailbox.models import HoldReason, MailStatus

# what an analyst or Vigie decided: the "handled" tab
HANDLED_STATUSES = (
    MailStatus.INCIDENT,
    MailStatus.REPLY,
    MailStatus.DISCARDED,
    MailStatus.DUPLICATE,
)


def N_(message: str) -> str:  # noqa: N802 — the gettext convention for "mark, translate later"
    return message


REASONS: dict[str, str] = {
    HoldReason.UNKNOWN_SENDER: N_("Unknown sender"),
    HoldReason.OTHER_ORGANISATION: N_("Sender outside the incident's organisation"),
    HoldReason.UNKNOWN_REFERENCE: N_("Unknown incident reference"),
    HoldReason.AUTO_REPLY: N_("Automatic reply"),
    HoldReason.BOUNCE: N_("Delivery failure notice"),
    HoldReason.DMARC_FAIL: N_("DMARC failed"),
    HoldReason.MERGED: N_("Reply to a merged incident"),
    HoldReason.STAFF_SENDER: N_("Sent by a CERT account"),
    HoldReason.NO_CONTENT: N_("No content"),
    HoldReason.TOO_LARGE: N_("Too large"),
    HoldReason.UNAUTHENTICATED: N_("Not authenticated"),
    HoldReason.LOOP: N_("Vigie's own message"),
    HoldReason.AMBIGUOUS_SENDER: N_("Contact of several organisations"),
}

STATUSES: dict[str, str] = {
    MailStatus.RECEIVED: N_("Received"),
    MailStatus.FAILED: N_("Failed"),
    MailStatus.HELD: N_("On hold"),
    MailStatus.INCIDENT: N_("Became an incident"),
    MailStatus.REPLY: N_("Added to an incident"),
    MailStatus.DISCARDED: N_("Discarded"),
    MailStatus.DUPLICATE: N_("Duplicate"),
}

# badge colours of an authentication verdict (RFC 8601 results)
VERDICT_CLASSES: dict[str, str] = {
    "pass": "text-bg-success",
    "fail": "text-bg-danger",
    "softfail": "text-bg-warning",
    "neutral": "text-bg-light border",
    "none": "text-bg-light border",
    "temperror": "text-bg-warning",
    "permerror": "text-bg-warning",
    "policy": "text-bg-warning",
}

# the queue's tabs: name → (label, statuses)
TABS: dict[str, tuple[str, tuple[MailStatus, ...]]] = {
    "held": (N_("Held"), (MailStatus.HELD,)),
    "failed": (N_("Processing failed"), (MailStatus.FAILED,)),
    "handled": (N_("Handled"), HANDLED_STATUSES),
}
