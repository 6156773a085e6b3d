"""Every route of the playbooks slice, for its manifest (:data:`playbooks.slice.SLICE`):
importing the route modules registers their routes on the blueprints of
:mod:`playbooks.blueprints`."""

from __future__ import annotations

from flask import Blueprint

from playbooks import blueprints
from playbooks.automation import api as automation_api  # noqa: F401  (registers its routes)
from playbooks.automation import web as automation_web  # noqa: F401
from playbooks.library import api as library_api  # noqa: F401  (registers its routes)
from playbooks.pages import web as pages_web  # noqa: F401  (registers its routes)
from playbooks.pages import web_runs as pages_web_runs  # noqa: F401

API: Blueprint = blueprints.api
PAGES: tuple[Blueprint, ...] = (blueprints.pages,)
