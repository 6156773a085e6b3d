"""Vigie's command executors (manual, http-api, the x-vigie vocabulary), registered
with the engine (:mod:`playbooks.engine.registry`) when this package is imported."""

from playbooks.actions import httpapi, incident_actions, intel, notify

__all__ = ["httpapi", "incident_actions", "intel", "notify"]
