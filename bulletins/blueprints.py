"""The bulletins slice's blueprints, defined here so that the route modules import them (and
never each other):

* ``bulletins``: CERT staff's pages (``/bulletins/…``), templates in ``bulletins/templates``, the
  stylesheet in ``bulletins/static`` (``/assets/bulletins``);
* ``bulletins_public``: what needs no account — the public archive of ``TLP:CLEAR`` bulletins,
  its RSS and Atom feeds, and the digests' unsubscribe link (``/advisories/…``);
* ``bulletins_api``: the REST routes nested under ``/api/v1``.

:mod:`bulletins.routes` imports every route module and lists the blueprints for the app.
"""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint(
    "bulletins",
    "bulletins",
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets/bulletins",
)
public = Blueprint("bulletins_public", "bulletins", template_folder="templates")
api = Blueprint("bulletins_api", "bulletins")

TAG = "bulletins"
