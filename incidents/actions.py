"""The incidents slice's audit actions (Flask-free): the values stored in ``audit_log.action``.

Timeline changes are audited as ``incident.<kind>``, the kind of the timeline event they add
(:attr:`IncidentAction.kind`): ``record_change`` and the conversation take the action and derive
the kind from it, so the two cannot drift apart.
"""

from __future__ import annotations

from core.audit import AuditAction


class IncidentAction(AuditAction):
    SUBMIT = "incident.submit"
    BULK_GENERATE = "incident.bulk_generate"
    STATUS = "incident.status"
    ASSIGN = "incident.assign"
    PRIORITY = "incident.priority"
    MERGE = "incident.merge"
    ATTACHMENT_ADD = "incident.attachment_add"
    # recorded with a timeline event of the same kind
    CLASSIFICATION = "incident.classification"
    MARKINGS = "incident.markings"
    PARTICIPANT = "incident.participant"
    LINKED = "incident.linked"
    UNLINKED = "incident.unlinked"
    MERGED = "incident.merged"
    OBSERVABLE_ADDED = "incident.observable_added"
    OBSERVABLE_REMOVED = "incident.observable_removed"
    TASK_ADDED = "incident.task_added"
    TASK_DONE = "incident.task_done"
    TASK_REOPENED = "incident.task_reopened"
    TASKS_APPLIED = "incident.tasks_applied"
    COMMENT = "incident.comment"
    REPLY = "incident.reply"
    REPORTER_REPLY = "incident.reporter_reply"
    INTEL_MATCH = "incident.intel_match"  # new sightings (incidents.intel.sightings)
    # vigilance centres (incidents.centres): timeline kinds "transferred", "shared", "unshared"
    TRANSFER = "incident.transfer"
    SHARE = "incident.share"
    UNSHARE = "incident.unshare"
    # saved queue filters
    SAVED_FILTER_CREATE = "saved_filter.create"
    SAVED_FILTER_DELETE = "saved_filter.delete"
    # the notification centre (incidents.notifications)
    NOTIFICATION_READ = "notification.read"
    NOTIFICATIONS_READ_ALL = "notification.read_all"
    NOTIFICATION_PREFERENCE = "notification.preference"
    # the CERT mailbox (incidents.mailbox): what the robot did, and the analysts' decisions
    MAIL_RECEIVE = "mail.receive"  # stored (raw message, by SHA-256)
    MAIL_HOLD = "mail.hold"  # put in the held-mail queue, with its reason
    MAIL_INCIDENT = "mail.incident"  # became an incident (known sender, or an analyst's choice)
    MAIL_REPLY = "mail.reply"  # added to an incident's conversation
    MAIL_DISCARD = "mail.discard"
    MAIL_REPROCESS = "mail.reprocess"

    @property
    def kind(self) -> str:
        """The timeline event kind this action goes with (``incident.markings`` → ``markings``)."""
        return self.value.removeprefix("incident.")
