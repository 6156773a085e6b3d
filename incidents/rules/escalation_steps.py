"""Escalation settings (pure): which new incidents page the staff on duty and the steps an
incident not acknowledged in time climbs (``CERT_ESCALATION_PRIORITIES``,
``CERT_ESCALATION_STEPS``, parsed once by :func:`incidents.settings.from_config`).

Steps: ``<step>+<minutes>``, comma-separated — the step is taken that many minutes after the
incident's acknowledgement due time (``ack_due_at``) when it is still not acknowledged:

* ``leads``: the leads of the incident's centre;
* ``national``: the national coordination centre's staff on duty and leads.

``leads+0,national+30`` (the default): the centre's leads at the due time, the national centre
half an hour later. Each step at most once in the list, in order of time; at most a week after.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from incidents.models import Priority

MAX_OFFSET_MINUTES = 7 * 24 * 60


class Step(enum.StrEnum):
    LEADS = "leads"  # the incident's centre's leads
    NATIONAL = "national"  # the national centre's staff on duty and leads


@dataclass(frozen=True)
class EscalationStep:
    step: Step
    after: dt.timedelta  # after the acknowledgement due time


DEFAULT_STEPS = (
    EscalationStep(Step.LEADS, dt.timedelta(0)),
    EscalationStep(Step.NATIONAL, dt.timedelta(minutes=30)),
)
DEFAULT_PRIORITIES = frozenset({Priority.P1, Priority.P2})


def _entry(part: str) -> EscalationStep:
    name, sep, minutes = part.partition("+")
    digits = minutes.strip()
    if not sep or not (digits.isascii() and digits.isdigit()) or len(digits) > 6:
        raise ValueError(f"invalid escalation step {part!r}; expected e.g. leads+0,national+30")
    try:
        step = Step(name.strip().lower())
    except ValueError:
        valid = ", ".join(s.value for s in Step)
        raise ValueError(f"invalid escalation step {part!r}: the step is one of {valid}") from None
    if int(digits) > MAX_OFFSET_MINUTES:
        raise ValueError(f"invalid escalation step {part!r}: at most {MAX_OFFSET_MINUTES} minutes")
    return EscalationStep(step, dt.timedelta(minutes=int(digits)))


def parse_steps(text: str) -> tuple[EscalationStep, ...]:
    """``leads+0,national+30`` → the steps, by time; ``ValueError`` names the bad part. An empty
    text (or only blanks) is no escalation at all."""
    parts = [p.strip() for p in text.split(",")]
    if not text.strip():
        return ()
    if any(not p for p in parts):
        raise ValueError(f"invalid escalation steps {text!r}; expected e.g. leads+0,national+30")
    steps = [_entry(p) for p in parts]
    names = [s.step for s in steps]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"escalation step {name.value!r} given twice")
    if [s.after for s in steps] != sorted(s.after for s in steps):
        raise ValueError(f"invalid escalation steps {text!r}: steps must be in order of time")
    return tuple(steps)


def parse_priorities(text: str) -> frozenset[Priority]:
    """``P1,P2`` → those priorities (case and blanks ignored); empty: none pages."""
    found: set[Priority] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            found.add(Priority(part.upper()))
        except ValueError:
            valid = ", ".join(p.value for p in Priority)
            raise ValueError(f"invalid priority {part!r}: one of {valid}") from None
    return frozenset(found)
