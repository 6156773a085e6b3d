"""The playbooks slice's blueprints, defined here so that the route modules import them (and
never each other):

* ``playbooks``: the leads' and analysts' pages, templates in ``playbooks/templates``, the
  stylesheet in ``playbooks/static`` (``/assets/playbooks``);
* ``playbooks_api``: the REST routes nested under ``/api/v1``.

:mod:`playbooks.routes` imports every route module and lists the blueprints for the app.
"""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint(
    "playbooks",
    "playbooks",
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets/playbooks",
)
api = Blueprint("playbooks_api", "playbooks")

TAG = "playbooks"
