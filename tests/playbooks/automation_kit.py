"""Playbooks for the automation tests: an after-incident one (investigation: takes triggers) and
a before-incident one (prevention: takes schedules), imported through the library service."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import ValidationFailed
from core.identity.authz import Actor
from playbooks.library.services import import_playbook
from playbooks.models import Playbook
from tests.playbooks.cacao_kit import document, text

SYSTEM = Actor.system("test")


def response_playbook(
    session: Session, clock: Clock, name: str = "Ransomware response"
) -> Playbook:
    doc = document(types=("investigation", "mitigation"), name=name)
    return import_playbook(session, SYSTEM, text(doc), clock=clock).playbook


def check_playbook(session: Session, clock: Clock, name: str = "Exposure check") -> Playbook:
    doc = document(types=("prevention", "detection"), name=name)
    return import_playbook(session, SYSTEM, text(doc), clock=clock).playbook


def refused(call: object, *args: object, **kwargs: object) -> dict[str, str]:
    """The fields of the ``ValidationFailed`` that ``call(*args, **kwargs)`` raises."""
    with pytest.raises(ValidationFailed) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value.fields
