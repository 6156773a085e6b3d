"""The playbooks slice's audit actions (Flask-free): the values stored in ``audit_log.action``."""

from __future__ import annotations

from core.audit import AuditAction


class PlaybookAction(AuditAction):
    IMPORT = "playbook.import"  # a version imported (file, form, API, built-in library)
    ENABLE = "playbook.enable"
    DISABLE = "playbook.disable"
    RUN_START = "playbook.run_start"  # an analyst started a run by hand
    RUN_CANCEL = "playbook.run_cancel"
    TRIGGER_CREATE = "playbook.trigger_create"
    TRIGGER_UPDATE = "playbook.trigger_update"
    TRIGGER_DELETE = "playbook.trigger_delete"
    SCHEDULE_CREATE = "playbook.schedule_create"
    SCHEDULE_UPDATE = "playbook.schedule_update"
    SCHEDULE_DELETE = "playbook.schedule_delete"
