"""Every route of the incidents slice, for its manifest (:data:`incidents.slice.SLICE`).

Importing the route modules registers their routes on the blueprints of
:mod:`incidents.blueprints`; the order is that of the API document (intake and the list, then the
workspace).
"""

from __future__ import annotations

from flask import Blueprint

from incidents import blueprints
from incidents.intake import api as intake_api  # noqa: F401  (registers its routes)
from incidents.intake import web as intake_web  # noqa: F401
from incidents.intel import web as intel_web
from incidents.mailbox import api as mailbox_api  # noqa: F401
from incidents.mailbox import web as mailbox_web
from incidents.notifications import web as notifications_web
from incidents.queue import api as queue_api  # noqa: F401
from incidents.queue import web as queue_web
from incidents.reporter import web as reporter_web  # noqa: F401
from incidents.reporting import web as reporting_web
from incidents.sharing import api as sharing_api  # noqa: F401
from incidents.sharing import api_misp as sharing_api_misp  # noqa: F401
from incidents.sharing import taxii
from incidents.sharing import web as sharing_web
from incidents.sharing import web_misp as sharing_web_misp
from incidents.workspace import api as workspace_api  # noqa: F401
from incidents.workspace import api_centres as workspace_api_centres  # noqa: F401
from incidents.workspace import api_tasks as workspace_api_tasks  # noqa: F401
from incidents.workspace import web as workspace_web
from incidents.workspace import web_centres as workspace_centres  # noqa: F401  (its routes)
from incidents.workspace import web_items as workspace_items  # noqa: F401  (its routes)

API: Blueprint = blueprints.api
PAGES: tuple[Blueprint, ...] = (
    blueprints.pages,
    reporting_web.bp,
    workspace_web.bp,
    queue_web.bp,
    notifications_web.bp,
    sharing_web_misp.bp,
    sharing_web.bp,
    taxii.bp,  # /taxii2/: token-authenticated, outside /api/v1
    intel_web.bp,
    mailbox_web.bp,
)
