"""Vigie's command executors (manual, http-api, the x-vigie vocabulary), registered
with the engine."""
