"""What the queue page shows of its filter: names in the reader's language (organisations in
Arabic for Arabic readers, sectors, RSIT classes and types, statuses) and one removable chip per
active filter value, each a link to the same queue without that value (no script needed).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from core.i18n import RTL_LOCALES
from core.identity.centres import Centre
from core.identity.models import Organisation, User
from incidents.queue.filter import OPEN, PRIORITIES, QueueFilter
from incidents.rules import labels

HIDDEN = ("sort", "after", "before", "due_within")  # in the URL, never a chip
ANY_STATUS = {"status": [""]}  # /queue alone means "open"; an empty status means any status


@dataclass(frozen=True)
class Chip:
    field: str  # the filter's name: status, organisation…
    name: str  # "Status", translated
    value: str  # "In progress", translated
    remove: str  # the queue's URL without this value


def arabic() -> bool:
    return str(get_locale()) in RTL_LOCALES


def org_name(org: Organisation, rtl: bool | None = None) -> str:
    """The organisation's Arabic name for Arabic readers (when it has one), else its French."""
    return org.name_ar if (arabic() if rtl is None else rtl) and org.name_ar else org.name


def sector_name(sector: str) -> str:
    known = labels.sector_label(sector)
    return _(known) if known else sector


def type_names() -> dict[str, str]:
    """RSIT type id → translated name."""
    return {
        choice.value.split("/")[1]: _(choice.name)
        for group in labels.classification_groups(include_test=True)
        for choice in group.choices
    }


def queue_url(f: QueueFilter) -> str:
    """The first page of the queue under ``f`` (an empty filter shows every status)."""
    args = f.without_cursor().to_args() or ANY_STATUS
    return url_for("queue.index") + "?" + urlencode(args, doseq=True)


def centre_name(centre: Centre) -> str:
    """The centre's Arabic name for Arabic readers (when it has one), else its French."""
    return centre.display_name("ar" if arabic() else "fr")


def chips(
    f: QueueFilter,
    organisations: Iterable[Organisation],
    staff: Iterable[User],
    centres: Iterable[Centre] = (),
) -> list[Chip]:
    """One chip per value of each active filter, in the form's order."""
    rtl = arabic()
    orgs = {o.slug: org_name(o, rtl) for o in organisations}
    centre_names = {c.slug: centre_name(c) for c in centres}
    people = {u.email: u.name for u in staff}
    statuses = {OPEN: _("Open"), **{k: _(v) for k, v in labels.STATUSES.items()}}
    classes = {k: _(v[0]) for k, v in labels.RSIT_CLASSES.items()}
    sla = {"due_soon": _("Due within %(hours)s h", hours=f.due_within), "breached": _("Breached")}
    intel = {"true": _("With an intel match"), "false": _("Without an intel match")}
    assignees = {"me": _("Me"), "none": _("Unassigned"), **people}
    types = type_names() if f.type else {}
    named: dict[str, tuple[str, Callable[[str], str]]] = {
        "centre": (_("Centre"), lambda v: centre_names.get(v, v)),  # first: a centre's view
        "q": (_("Search"), str),
        "status": (_("Status"), lambda v: statuses.get(v, v)),
        "priority": (_("Priority"), str),
        "tlp": (_("TLP"), str),
        "category": (_("RSIT class"), lambda v: classes.get(v, v)),
        "type": (_("RSIT type"), lambda v: types.get(v, v)),
        "organisation": (_("Organisation"), lambda v: orgs.get(v, v)),
        "sector": (_("Sector"), sector_name),
        "assignee": (_("Assignee"), lambda v: assignees.get(v, v)),
        "sla": (_("SLA"), lambda v: sla.get(v, v)),
        "has_match": (_("Threat intelligence"), lambda v: intel.get(v, v)),
        "received_from": (_("Received from"), str),
        "received_to": (_("Received until"), str),
        "received_after": (_("Received after"), str),
        "received_before": (_("Received before"), str),
    }
    args = f.without_cursor().to_args()
    result = []
    for field, (name, show) in named.items():
        for value in args.get(field, []):
            rest = {k: [v for v in vs if not (k == field and v == value)] for k, vs in args.items()}
            remaining = QueueFilter.from_args({k: vs for k, vs in rest.items() if vs})
            result.append(Chip(field, name, show(value), queue_url(remaining)))
    return result


Groups = list[tuple[str | None, list[tuple[str, str]]]]  # [(group name, [(value, label)])]


def filter_groups(
    statuses: Iterable[str],
    organisations: Iterable[Organisation],
    sectors: Iterable[str],
    centres: Iterable[Centre] = (),
) -> dict[str, Groups]:
    """The choices of each dropdown of the filter bar, translated."""
    rtl = arabic()
    return {
        **_fixed_groups(str(get_locale()), tuple(statuses)),
        "centre": [(None, [(c.slug, centre_name(c)) for c in centres])],
        "organisation": [(None, [(o.slug, org_name(o, rtl)) for o in organisations])],
        "sector": [(None, sorted(((s, sector_name(s)) for s in sectors), key=lambda c: c[1]))],
    }


@functools.lru_cache(maxsize=16)
def _fixed_groups(locale: str, statuses: tuple[str, ...]) -> dict[str, Groups]:
    """The choices that do not come from the database, translated once per language (the RSIT
    types alone are some fifty strings)."""
    status = [(OPEN, _("Open (new, triaged, in progress)"))]
    status += [(s, _(labels.STATUSES[s])) for s in statuses]
    tlps = ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]
    return {
        "status": [(None, status)],
        "priority": [(None, [(p, p) for p in PRIORITIES])],
        "tlp": [(None, [(t, t) for t in tlps])],
        "category": [(None, [(k, _(v[0])) for k, v in labels.RSIT_CLASSES.items()])],
        "type": [
            (_(group.name), [(c.value.split("/")[1], _(c.name)) for c in group.choices])
            for group in labels.classification_groups(include_test=True)
        ],
    }


def helpers() -> dict[str, Any]:
    return {
        "org_name": org_name,
        "sector_name": sector_name,
        "centre_name": centre_name,
        "filter_groups": filter_groups,
    }
