"""Vigie's command executors (manual, http-api, the x-vigie vocabulary), registered
with the engine (:mod:`playbooks.engine.registry`) when this package is imported."""

from playbooks.actions import exposure, httpapi, incident_actions, intel, notify, reviews

__all__ = ["exposure", "httpapi", "incident_actions", "intel", "notify", "reviews"]
