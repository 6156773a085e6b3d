"""Every route of the playbooks slice, for its manifest (:data:`playbooks.slice.SLICE`):
importing the route modules registers their routes on the blueprints of
:mod:`playbooks.blueprints`."""

from __future__ import annotations

from flask import Blueprint

from playbooks import blueprints

API: Blueprint = blueprints.api
PAGES: tuple[Blueprint, ...] = (blueprints.pages,)
