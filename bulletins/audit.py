"""The bulletins slice's audit actions (Flask-free): the values stored in ``audit_log.action``."""

from __future__ import annotations

from core.audit import AuditAction


class BulletinAction(AuditAction):
    CREATE = "bulletin.create"
    UPDATE = "bulletin.update"
    SUBMIT = "bulletin.submit"
    APPROVE = "bulletin.approve"
    RETURN = "bulletin.return"  # sent back to its author from review
    PUBLISH = "bulletin.publish"
    REVISE = "bulletin.revise"  # a published bulletin reopened for a new revision


class ListAction(AuditAction):
    """Distribution lists and their members (:mod:`bulletins.distribution.services`)."""

    CREATE = "list.create"
    UPDATE = "list.update"
    DELETE = "list.delete"
    MEMBER_ADD = "list.member_add"
    MEMBER_REMOVE = "list.member_remove"
