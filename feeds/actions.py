"""The feeds slice's audit actions (Flask-free): the values stored in ``audit_log.action``."""

from __future__ import annotations

from core.audit import AuditAction


class FeedAction(AuditAction):
    CREATE = "feed.create"  # a feed added (by a lead, or ``manual`` on the first import)
    UPDATE = "feed.update"
    ENABLE = "feed.enable"
    DISABLE = "feed.disable"
    DELETE = "feed.delete"
    POLL = "feed.poll"  # a lead asked for a poll (page, API, command line)
    IMPORT = "feed.import"  # a document imported by hand (``cert feeds import``, the form)
