"""The blueprints shared by several sub-packages, defined here so that the route modules import
them (and never each other):

* ``incidents``: the reporters' pages — the report form (:mod:`incidents.intake.web`), the status
  page and the organisation's list (:mod:`incidents.reporter.web`); templates in
  ``incidents/templates``.
* ``incidents_api``: the REST routes nested under ``/api/v1`` — intake
  (:mod:`incidents.intake.api`), the list (:mod:`incidents.queue.api`), then the workspace
  (:mod:`incidents.workspace.api`, :mod:`incidents.workspace.api_tasks`).

:mod:`incidents.routes` imports every route module and lists the blueprints for the app.
"""

from __future__ import annotations

from flask import Blueprint

from core.api.openapi import API_WRITES

pages = Blueprint("incidents", "incidents", template_folder="templates")
api = Blueprint("incidents_api", "incidents")

WRITE_RATE_LIMIT = API_WRITES  # per bearer token, on each POST route: CERT_API_WRITE_RATE_LIMIT
REFERENCE = {"reference": "Incident reference, e.g. MACERT-2026-000042"}
