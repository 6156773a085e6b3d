"""What the queue tests read: the references of a queue page, as a user (or actor) sees it.

The people, organisations and incidents come from the kit (``world``, ``interieur``, ``sante``,
``analyst`` fixtures; :func:`tests.kit.factories.report` by organisation, with ``state``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import User
from incidents.queue.query import QueueFilter, queue_page
from tests.kit.factories import actor_of


def page(session: Session, who: User | Actor, clock: FrozenClock, **args: Any) -> list[str]:
    actor = who if isinstance(who, Actor) else actor_of(who)
    result = queue_page(session, actor, QueueFilter.from_args(args), clock=clock, limit=100)
    return [i.reference for i in result.items]
