"""Everything the incidents slice contributes to the application, in one manifest
(:class:`core.slices.Slice`), listed by :data:`cert.slices_list.SLICES`."""

from __future__ import annotations

from core.slices import Demo, Job, Slice
from incidents import daily, events, models, routes, settings
from incidents.demo import cli as demo_cli
from incidents.intel import handlers as intel_handlers
from incidents.intel import models as intel_models
from incidents.mailbox import cli as mailbox_cli
from incidents.mailbox import models as mailbox_models
from incidents.notifications import handlers as notification_handlers
from incidents.notifications import models as notification_models
from incidents.queue import saved_filters
from incidents.reporting import cli as reporting_cli
from incidents.sharing import stored as sharing_models

SLICE = Slice(
    name="incidents",
    pages=routes.PAGES,
    api=(routes.API,),
    commands=(reporting_cli.stats, reporting_cli.reporting, mailbox_cli.mail),
    jobs=(
        Job(
            "incidents.purge_idempotency_keys",
            "incidents.intake.jobs:purge_idempotency_keys",
            "idempotency_purge_interval_seconds",
        ),
        Job(
            "incidents.notifications.mail",
            "incidents.notifications.jobs:send_mail",
            "notify_mail_interval_seconds",
        ),
        Job(
            "incidents.notifications.sla",
            "incidents.notifications.jobs:watch_sla",
            "notify_sla_interval_seconds",
        ),
        Job(
            "incidents.notifications.escalate",
            "incidents.notifications.jobs:escalate_unacknowledged",
            "notify_sla_interval_seconds",
        ),
        Job(
            "incidents.mailbox.read",
            "incidents.mailbox.jobs:read_mailbox",
            "imap_interval_seconds",
        ),
    ),
    models=(
        models,
        daily,
        saved_filters,
        notification_models,
        intel_models,
        sharing_models,
        mailbox_models,
    ),
    settings=settings.from_config,
    events=(events.IncidentEventName,),
    handlers=(*events.HANDLERS, *notification_handlers.HANDLERS, *intel_handlers.HANDLERS),
    demo=Demo(seed=demo_cli.seed, bulk=demo_cli.bulk),
)
