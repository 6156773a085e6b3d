"""Every route of the feeds slice, for its manifest (:data:`feeds.slice.SLICE`).

Importing the route modules registers their routes on the blueprints of :mod:`feeds.blueprints`.
"""

from __future__ import annotations

from flask import Blueprint

from feeds import blueprints
from feeds.index import api as index_api  # noqa: F401  (registers its routes)

API: Blueprint = blueprints.api
