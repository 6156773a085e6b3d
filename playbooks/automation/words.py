"""Cron expressions and trigger events in words (pure), in the language of the ``gettext`` given
(English for the command line). Common shapes only — every day, some
weekdays, a day of the month, every hour, every N minutes; anything else is shown as written."""

from __future__ import annotations

from collections.abc import Callable

from core.errors import Message
from core.i18n import N_, localise
from playbooks.models import TriggerEvent

EVENTS: dict[TriggerEvent, Message] = {
    TriggerEvent.CREATED: N_("an incident is reported"),
    TriggerEvent.CLASSIFIED: N_("an incident is classified"),
    TriggerEvent.PRIORITY: N_("an incident's priority changes"),
    TriggerEvent.MARKINGS: N_("an incident's TLP or PAP changes"),
    TriggerEvent.STATUS: N_("an incident's status changes"),
    TriggerEvent.INTEL_MATCH: N_("a threat-intelligence match is found"),
}
WEEKDAYS = (
    N_("Sunday"),
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
)


def _number(text: str, low: int, high: int) -> int | None:
    return int(text) if text.isdigit() and low <= int(text) <= high else None


def _weekdays(field: str) -> list[int] | None:
    """``1``, ``1,3,5``, ``1-5`` → weekday numbers (0 Sunday … 6 Saturday); None otherwise."""
    days: list[int] = []
    for part in field.split(","):
        first, _, last = part.partition("-")
        low, high = _number(first, 0, 7), _number(last or first, 0, 7)
        if low is None or high is None or low > high:
            return None
        days += [day % 7 for day in range(low, high + 1)]
    return sorted(set(days))


def cron_words(expression: str, gettext: Callable[[str], str] = str) -> str | None:
    """``"0 7 * * *"`` → "every day at 07:00" in the language of ``gettext`` (English by
    default); None for a shape this does not put in words."""
    words = _cron_message(expression, gettext)
    return localise(words, gettext) if words is not None else None


def _cron_message(expression: str, gettext: Callable[[str], str]) -> Message | None:
    fields = expression.split()
    if len(fields) != 5:
        return None
    minute, hour, day, month, weekday = fields
    if month != "*":
        return None
    if minute.startswith("*/") and (hour, day, weekday) == ("*", "*", "*"):
        step = _number(minute[2:], 1, 59)
        return N_("every %(n)s minutes", n=step) if step else None
    m = _number(minute, 0, 59)
    if m is None:
        return None
    if (hour, day, weekday) == ("*", "*", "*"):
        return N_("every hour at minute %(minute)s", minute=m)
    h = _number(hour, 0, 23)
    return None if h is None else _at_time(f"{h:02d}:{m:02d}", day, weekday, gettext)


def _at_time(time: str, day: str, weekday: str, gettext: Callable[[str], str]) -> Message | None:
    if day == "*" and weekday == "*":
        return N_("every day at %(time)s", time=time)
    if weekday == "*":
        d = _number(day, 1, 31)
        return N_("on day %(day)s of every month at %(time)s", day=d, time=time) if d else None
    days = _weekdays(weekday) if day == "*" else None
    if not days:
        return None
    if days == [1, 2, 3, 4, 5]:
        return N_("Monday to Friday at %(time)s", time=time)
    names = [WEEKDAYS[d] for d in days]
    if len(names) == 1:
        return N_("every %(day)s at %(time)s", day=names[0], time=time)
    joined = ", ".join(localise(name, gettext) for name in names)
    return N_("%(days)s at %(time)s", days=joined, time=time)
