"""Every route of the feeds slice, for its manifest (:data:`feeds.slice.SLICE`): importing the
route modules registers their routes on the blueprints of :mod:`feeds.blueprints`."""

from __future__ import annotations

from flask import Blueprint

from feeds import blueprints
from feeds.index import api as index_api  # noqa: F401  (registers its routes)
from feeds.sources import api as sources_api  # noqa: F401
from feeds.sources import web as sources_web  # noqa: F401

API: Blueprint = blueprints.api
PAGES: tuple[Blueprint, ...] = (blueprints.pages,)
