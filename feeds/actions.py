"""The feeds slice's audit actions (Flask-free): the values stored in ``audit_log.action``."""

from __future__ import annotations

from core.audit import AuditAction


class FeedAction(AuditAction):
    CREATE = "feed.create"  # a feed added (by a lead, or ``manual`` on the first import)
    IMPORT = "feed.import"  # a document imported by hand (``cert feeds import``, the form)
