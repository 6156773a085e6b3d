"""Row builders of :mod:`incidents.demo.synthetic`: plausible French incidents from a seeded
generator.

Pure (no DB): each template is an RSIT (class, type) with French titles and a description in
which two indicators are written defanged, as reporters paste them; the same two indicators
become the incident's observables in canonical form.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from incidents.models import Incident, IncidentObservable, IncidentStatus
from incidents.rules.priority import Level, deadlines, priority_for
from incidents.settings import IntakeSettings

INCIDENT_COLUMNS = tuple(c.name for c in Incident.__table__.columns)
OBSERVABLE_COLUMNS = tuple(c.name for c in IncidentObservable.__table__.columns if c.name != "id")
JSON_COLUMNS = frozenset({"affected_assets", "possible_duplicates", "sources", "warning_lists"})


@dataclass(frozen=True)
class People:
    organisations: list[tuple[int, str]]  # (id, slug) of constituents
    reporters: dict[int, list[int]]  # organisation id → reporter user ids
    staff: list[int]  # CERT user ids (assignees)


@dataclass(frozen=True)
class Template:
    category: str
    type: str
    weight: int
    titles: tuple[str, ...]
    description: str  # {o1} {o2}: defanged indicators; {n}: a count; {service}
    kinds: tuple[str, str]  # observable types of {o1} and {o2}


@functools.cache
def templates() -> tuple[Template, ...]:
    """The templates of ``data/synthetic_incidents.json`` (one per RSIT class/type, weighted)."""
    raw = json.loads(
        resources.files("incidents").joinpath("data/synthetic_incidents.json").read_text("utf-8")
    )
    return tuple(
        Template(
            t["category"],
            t["type"],
            t["weight"],
            tuple(t["titles"]),
            t["description"],
            (t["observables"][0], t["observables"][1]),
        )
        for t in raw
    )


SERVICES = ("portail citoyen", "service de messagerie", "intranet", "ERP", "VPN", "site web")
LEVELS = (Level.LOW, Level.MEDIUM, Level.HIGH, Level.CRITICAL)
TLPS = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")
PAPS = ("PAP:CLEAR", "PAP:GREEN", "PAP:AMBER", "PAP:RED")
_FIRST_OCTETS = (5, 23, 31, 37, 45, 46, 62, 77, 80, 89, 91, 94, 103, 141, 179, 185, 193, 194)
_WORDS = ("secure", "login", "portail", "mise-a-jour", "verif", "compte", "service", "gov")
_TLDS = ("com", "net", "info", "xyz", "top", "online", "ma")
_S = IncidentStatus
# status weights by age of the incident: (≤ 7 days, ≤ 60 days, older)
_STATUSES = (_S.NEW, _S.TRIAGED, _S.IN_PROGRESS, _S.RESOLVED, _S.CLOSED, _S.REJECTED, _S.DUPLICATE)
_STATUS_WEIGHTS = tuple(
    list(itertools.accumulate(w))
    for w in ((40, 30, 25, 5, 0, 0, 0), (0, 10, 25, 30, 25, 5, 5), (0, 0, 5, 10, 70, 8, 7))
)
# cumulative weights (random.choices is faster with them)
_IMPACT = list(itertools.accumulate((30, 40, 22, 8)))
_URGENCY = list(itertools.accumulate((25, 45, 22, 8)))
_TLP = list(itertools.accumulate((10, 25, 50, 10, 5)))
_PAP = list(itertools.accumulate((10, 30, 50, 10)))
# columns the generator leaves empty (set explicitly: executemany needs every key in every row)
_UNSET: dict[str, Any] = dict.fromkeys(
    (
        "contact_name",
        "contact_phone",
        "contact_email",
        "actions_taken",
        "priority_reason",
        "source_ref",
        "duplicate_of_id",
    )
)
_RESOLUTIONS = {
    _S.RESOLVED: "Menace neutralisée, correctifs appliqués.",
    _S.CLOSED: "Incident traité ; recommandations transmises à l'organisation.",
    _S.REJECTED: "Hors périmètre ou faux positif.",
    _S.DUPLICATE: "Déjà signalé par un autre canal.",
}


class RowFactory:
    """Builds incident and observable rows (plain dicts keyed by column name)."""

    def __init__(
        self, rng: random.Random, people: People, *, settings: IntakeSettings, now: dt.datetime
    ) -> None:
        self.rng = rng
        self.people = people
        self.settings = settings
        self.now = now
        self._pending: dict[int, list[tuple[str, str]]] = {}
        self._templates = templates()
        self._cumulative = list(itertools.accumulate(t.weight for t in self._templates))
        self._makers: dict[str, Callable[[], tuple[str, str]]] = {
            "ipv4": self._ipv4,
            "domain": self._domain,
            "url": self._url,
            "email": self._email,
            "md5": lambda: self._digest(128),
            "sha256": lambda: self._digest(256),
            "cve": self._cve,
        }

    def incident(self, id_: int, reference: str, received: dt.datetime) -> dict[str, Any]:
        rng = self.rng
        template = rng.choices(self._templates, cum_weights=self._cumulative)[0]
        org_id, slug = rng.choice(self.people.organisations)
        detected = received - dt.timedelta(minutes=rng.randint(5, 3 * 24 * 60))
        shown = self._observables(id_, template.kinds)
        fill = {"o1": shown[0], "o2": shown[1], "n": rng.randint(2, 900)}
        fill["service"] = rng.choice(SERVICES)
        reporters = self.people.reporters.get(org_id)
        row: dict[str, Any] = {
            **_UNSET,
            "id": id_,
            "reference": reference,
            "title": rng.choice(template.titles).format(**fill),
            "description": template.description.format(**fill),
            "organisation_id": org_id,
            "reporter_id": rng.choice(reporters) if reporters else None,
            "detected_at": detected,
            "reported_at": received,
            "received_at": received,
            "created_at": received,
            "possible_duplicates": [],
            "affected_assets": [f"srv-{rng.randint(1, 99):02d}.{slug}.gov.ma"],
            "users_affected": rng.choice((None, rng.randint(1, 500))),
            "systems_affected": rng.choice((None, rng.randint(1, 40))),
            "reporter_state": rng.choice(("ongoing", "contained", "resolved", None)),
            "category": template.category,
            "type": template.type,
            "tlp": rng.choices(TLPS, cum_weights=_TLP)[0],
            "pap": rng.choices(PAPS, cum_weights=_PAP)[0],
        }
        row.update(self._severity(received, detected))
        row.update(self._workflow(received, row["ack_due_at"], row["resolve_due_at"]))
        return row

    def _severity(self, received: dt.datetime, detected: dt.datetime) -> dict[str, Any]:
        """Impact, urgency, the matrix's priority and the SLA due dates that follow."""
        impact = self.rng.choices(LEVELS, cum_weights=_IMPACT)[0]
        urgency = self.rng.choices(LEVELS, cum_weights=_URGENCY)[0]
        priority = priority_for(impact, urgency)
        significant = impact is Level.CRITICAL and self.rng.random() < 0.4
        due = deadlines(
            priority,
            received,
            significant=significant,
            aware_at=detected,
            policy=self.settings.sla_policy,
        )
        return {
            "impact": impact.value,
            "urgency": urgency.value,
            "priority": priority.value,
            "significant": significant,
            "ack_due_at": due.acknowledge_by,
            "resolve_due_at": due.resolve_by,
            "early_warning_due_at": due.early_warning_by,
            "notification_due_at": due.notification_by,
            "final_report_due_at": due.final_report_by,
        }

    def _workflow(
        self, received: dt.datetime, ack_due: dt.datetime, resolve_due: dt.datetime
    ) -> dict[str, Any]:
        """Status, its timestamps, assignee and resolution, plausible for the incident's age."""
        rng = self.rng
        age = self.now - received
        band = 0 if age <= dt.timedelta(days=7) else 1 if age <= dt.timedelta(days=60) else 2
        status = rng.choices(_STATUSES, cum_weights=_STATUS_WEIGHTS[band])[0]
        acknowledged = resolved = closed = None
        if status is not _S.NEW:
            acknowledged = min(received + (ack_due - received) * rng.uniform(0.1, 1.3), self.now)
        if status in (_S.RESOLVED, _S.CLOSED):
            resolved = min(received + (resolve_due - received) * rng.uniform(0.2, 1.5), self.now)
        if status is _S.CLOSED and resolved is not None:
            closed = min(resolved + dt.timedelta(days=rng.uniform(0.5, 5)), self.now)
        staff = self.people.staff
        return {
            "status": status.value,
            "acknowledged_at": acknowledged,
            "resolved_at": resolved,
            "closed_at": closed,
            "assignee_id": rng.choice(staff) if staff and acknowledged else None,
            "resolution": _RESOLUTIONS.get(status),
            "updated_at": closed or resolved or acknowledged or received,
        }

    def observables_of(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        """The observable rows of an incident built by :meth:`incident` (each returned once)."""
        return [
            {
                "incident_id": row["id"],
                "type": kind,
                "value": value,
                "sources": ["description"],
                "warning_lists": [],
                "tlp": row["tlp"],
                "created_at": row["received_at"],
                "origin_incident_id": None,
            }
            for kind, value in self._pending.pop(row["id"])
        ]

    def _observables(self, id_: int, kinds: tuple[str, str]) -> tuple[str, str]:
        values: list[tuple[str, str]] = []
        shown: list[str] = []
        for kind in kinds:
            value, written = self._makers[kind]()
            while (kind, value) in values:  # two ipv4 of one template must differ
                value, written = self._makers[kind]()
            values.append((kind, value))
            shown.append(written)
        self._pending[id_] = values
        return shown[0], shown[1]

    def _ipv4(self) -> tuple[str, str]:
        r = self.rng
        head = f"{r.choice(_FIRST_OCTETS)}.{r.randint(0, 255)}.{r.randint(0, 255)}"
        last = r.randint(1, 254)
        return f"{head}.{last}", f"{head}[.]{last}"

    def _domain(self) -> tuple[str, str]:
        r = self.rng
        name = f"{r.choice(_WORDS)}-{r.choice(_WORDS)}{r.randint(1, 999)}"
        tld = r.choice(_TLDS)
        return f"{name}.{tld}", f"{name}[.]{tld}"

    def _url(self) -> tuple[str, str]:
        domain, written = self._domain()
        path = f"/{self.rng.choice(_WORDS)}/index.php"
        return f"https://{domain}{path}", f"hxxps://{written}{path}"

    def _email(self) -> tuple[str, str]:
        domain, written = self._domain()
        user = self.rng.choice(("support", "rh", "securite", "noreply", "direction"))
        return f"{user}@{domain}", f"{user}[@]{written}"

    def _digest(self, bits: int) -> tuple[str, str]:
        value = f"{self.rng.getrandbits(bits):0{bits // 4}x}"
        return value, value

    def _cve(self) -> tuple[str, str]:
        value = f"CVE-{self.rng.randint(2017, 2025)}-{self.rng.randint(1000, 49999)}"
        return value, value


def copy_tuples(
    batch: Sequence[dict[str, Any]], columns: Sequence[str]
) -> Iterator[tuple[Any, ...]]:
    """Rows in column order for ``COPY``: JSON columns as JSON text, the rest as they are."""
    encode = json.dumps
    as_json = [c in JSON_COLUMNS for c in columns]
    for row in batch:
        yield tuple(encode(row[c]) if j else row[c] for c, j in zip(columns, as_json, strict=True))
