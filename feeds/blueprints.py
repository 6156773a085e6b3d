"""The feeds slice's blueprints, defined here so that the route modules import them (and never
each other):

* ``feeds``: the leads' pages (:mod:`feeds.sources.web`), templates in ``feeds/templates``;
* ``feeds_api``: the REST routes nested under ``/api/v1`` — the feeds (:mod:`feeds.sources.api`)
  and enrichment (:mod:`feeds.index.api`).

:mod:`feeds.routes` imports every route module and lists the blueprints for the app.
"""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint("feeds", "feeds", template_folder="templates")
api = Blueprint("feeds_api", "feeds")

TAG = "feeds"
NAME = {"name": "The feed's name, e.g. abuse-ips"}
