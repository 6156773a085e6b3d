"""Every route of the bulletins slice, for its manifest (:data:`bulletins.slice.SLICE`):
importing the route modules registers their routes on the blueprints of
:mod:`bulletins.blueprints`."""

from __future__ import annotations

from flask import Blueprint

from bulletins import blueprints
from bulletins.authoring import web as authoring_web  # noqa: F401  (registers its routes)
from bulletins.authoring import web_actions as authoring_actions  # noqa: F401
from bulletins.csaf import web as csaf_web  # noqa: F401
from bulletins.digests import web as digests_web  # noqa: F401
from bulletins.digests import web_staff as digests_staff  # noqa: F401
from bulletins.distribution import web as distribution_web  # noqa: F401
from bulletins.distribution import web_publish  # noqa: F401
from bulletins.outputs import web as outputs_web  # noqa: F401
from bulletins.public import api as public_api  # noqa: F401
from bulletins.public import archive as public_archive  # noqa: F401

API: Blueprint = blueprints.api
PAGES: tuple[Blueprint, ...] = (blueprints.pages, blueprints.public)
