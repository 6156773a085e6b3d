"""Vigie's command executors (manual, http-api, the x-vigie vocabulary), registered
with the engine (:mod:`playbooks.engine.registry`) when this package is imported: each module
registers its own, and is imported here."""

from playbooks.actions import exposure, httpapi, incident_actions, intel, manual, notify, reviews

__all__ = ["exposure", "httpapi", "incident_actions", "intel", "manual", "notify", "reviews"]
