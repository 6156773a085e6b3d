"""The feeds slice's blueprints, defined here so that the route modules import them (and never
each other):

* ``feeds_api``: REST routes nested under ``/api/v1`` — enrichment (:mod:`feeds.index.api`).

:mod:`feeds.routes` imports every route module and lists the blueprints for the app.
"""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("feeds_api", "feeds")
