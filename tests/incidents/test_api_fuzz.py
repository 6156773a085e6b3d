"""schemathesis against ``/api/v1/openapi.json``: every documented operation (incidents,
workspace, mail, feeds, enrichment, playbooks, bulletins, centres), as a reporter, an analyst, a
lead and an administrator, on SQLite and PostgreSQL.

``make test`` fuzzes every operation as a lead with a few examples (``QUICK``); ``make proof``
(marker ``proof``) fuzzes every operation as each of the four roles with the full ``EXAMPLES``.
:func:`test_the_fuzz_reaches_every_api_route` fails when a route under ``/api/v1`` is missing from
the document, so that a new API route cannot escape the fuzz.

The document is loaded from the real app (``schemathesis.openapi.from_wsgi``) and each
operation gets a bounded number of generated requests (``EXAMPLES``, per backend, Hypothesis
derandomised: the same requests every run). Path parameters are taken half of the time from
seeded incidents and tasks, so that the operations reach their real code and not only the 404.
Each answer must pass the checks below: never a 5xx, a documented status, the documented media
type and a body that conforms to its schema.

Everything happens inside the test's rolled-back transaction (``app`` fixture): what the fuzz
writes is discarded. Each (role, operation) pair has its own token, so that the per-token write
limit (60 a minute) answers 429 only where an operation really is hammered.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.models import User
from incidents.rules.taxonomy import rsit_classes
from incidents.workspace import tasks
from tests.kit.factories import make_token, report
from tests.kit.world import World

pytestmark = pytest.mark.slow

# per operation and role (make proof): 48 operations × 4 roles × 40 ≈ 7,700 requests on
# PostgreSQL, where the database refuses what SQLite stores (integers past 2³¹, NUL bytes,
# lengths); half as many on SQLite, which adds the other dialect's paths but rarely a failure of
# its own. make test: every operation as a lead, a fifth of the examples.
EXAMPLES = {"postgresql": 40, "sqlite": 20}
QUICK = {"postgresql": 8, "sqlite": 4}  # make test: one role, every operation, a few examples
ROLES = ("reporter", "analyst", "lead", "admin")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# operation label → why: a failure found in another area, reported to its owner rather than
# fixed here; the test then ends as xfail (non-strict). Empty: every operation keeps its contract.
KNOWN: dict[str, str] = {}


@dataclass
class Seeded:
    """What the fuzz may aim at besides random values."""

    world: World
    references: list[str]
    task_ids: list[int]
    slugs: list[str]
    staff: list[str]


def _seed(session: Session, clock: FrozenClock) -> Seeded:
    world = World(session, clock)
    incidents = [
        report(session, clock, world.reporter),
        report(session, clock, world.reporter, tlp="TLP:RED", title="Rançongiciel au ministère"),
        report(session, clock, world.other_reporter, title="Défiguration du portail"),
    ]
    task = tasks.add_task(session, world.actor(world.lead), incidents[0], "Isoler", clock=clock)
    session.flush()
    return Seeded(
        world=world,
        references=[i.reference for i in incidents],
        task_ids=[task.id],
        slugs=[world.interieur.slug, world.sante.slug],
        staff=[world.analyst.email, world.lead.email],
    )


def _realistic(body: dict[str, Any], seeded: Seeded, choices: st.DataObject) -> None:
    """Aim a generated body at seeded rows: references, organisations, staff, a type of the
    class (random values mostly meet a 404 or a 422 before the code that matters)."""
    for key, values in (
        ("into", seeded.references),
        ("reference", seeded.references),
        ("organisation", seeded.slugs),
        ("assignee", seeded.staff),
    ):
        if key in body:
            body[key] = choices.draw(st.sampled_from(values), label=key)
    category = body.get("category")
    if isinstance(category, str) and category in rsit_classes():
        types = [t.id for t in rsit_classes()[category].types]
        body["type"] = choices.draw(st.sampled_from([None, *types]), label="type")


# werkzeug's <int:task_id> → OpenAPI's {task_id}
PARAMETER, OPENAPI_PARAMETER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>"), r"{\1}"


def _operations(app: Flask) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_fuzz_reaches_every_api_route(app: Flask) -> None:
    """Every ``METHOD /api/v1/…`` rule of the URL map is a documented operation, hence fuzzed."""
    fuzzed = {f"{op.method.upper()} {op.path}" for op in _operations(app)}
    served = {
        f"{method} {PARAMETER.sub(OPENAPI_PARAMETER, rule.rule)}"
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    # the document itself: every fuzz run loads it (schemathesis leaves it out of the operations)
    fuzzed.add("GET /api/v1/openapi.json")
    assert served - fuzzed == set(), "API routes the OpenAPI document (hence the fuzz) misses"
    assert fuzzed - served == set(), "documented operations no route serves"
    assert len(fuzzed) >= 45


@pytest.mark.parametrize(
    ("role", "size"),
    [
        ("lead", "quick"),
        *(pytest.param(role, "full", marks=pytest.mark.proof) for role in ROLES),
    ],
)
def test_every_operation_keeps_its_contract(
    app: Flask, db_session: Session, clock: FrozenClock, role: str, size: str
) -> None:
    seeded = _seed(db_session, clock)
    world = seeded.world
    user: User = {
        "reporter": world.reporter,
        "analyst": world.analyst,
        "lead": world.lead,
        "admin": world.admin,
    }[role]
    operations = _operations(app)
    assert len(operations) >= 45
    examples = (EXAMPLES if size == "full" else QUICK)[db_session.get_bind().dialect.name]
    started, failures, known = time.monotonic(), [], []
    for operation in operations:
        secret = make_token(db_session, clock, user, label=operation.label[:60])[1]
        try:
            _fuzz(operation, {"Authorization": f"Bearer {secret}"}, seeded, examples)
        except Exception as exc:  # collect every operation's failure, then report them all
            if operation.label in KNOWN:
                known.append(f"{operation.label}: {KNOWN[operation.label]}")
            else:
                failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    # a bound far above the measured time (2 shared cores), so that a runaway fuzz is noticed
    assert time.monotonic() - started < 600, "the fuzz must stay within the suite's budget"
    if known:  # like xfail(strict=False): reported, not hidden, and passing once fixed
        pytest.xfail("; ".join(known))


def _fuzz(operation: Any, headers: dict[str, str], seeded: Seeded, examples: int) -> None:
    real: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
        "reference": lambda: st.sampled_from(seeded.references),
        "task_id": lambda: st.sampled_from(seeded.task_ids),
    }

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), choices=st.data())
    def run(case: Any, choices: st.DataObject) -> None:
        for name in list(case.path_parameters or {}):
            # Hypothesis starts from False: the seeded rows first, random values as it goes on
            if name in real and not choices.draw(st.booleans(), label=f"random {name}"):
                case.path_parameters[name] = choices.draw(real[name](), label=name)
        if isinstance(case.body, dict) and not choices.draw(st.booleans(), label="random body"):
            _realistic(case.body, seeded, choices)
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
