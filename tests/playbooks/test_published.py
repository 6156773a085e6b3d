"""Documents written by other CACAO tools (tests/data/cacao/published, see its README): the
valid ones import and export byte for byte; those with commands Vigie does not run are refused
with that reason; broken ones are refused with every problem listed; nothing is stored from a
refused document. Vigie's own exported documents validate against the OASIS schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from playbooks.library.exports import export_playbook, find_version
from playbooks.library.services import InvalidPlaybook, import_playbook
from playbooks.models import Phase, Playbook
from playbooks.rules.validate import Problem, validate
from tests.playbooks.cacao_kit import document, text
from tests.playbooks.oasis import oasis_problems

PUBLISHED = Path(__file__).resolve().parent.parent / "data" / "cacao" / "published"
ACTOR = Actor.system("test")


def raw(name: str) -> bytes:
    return (PUBLISHED / f"{name}.json").read_bytes()


def refusal(db_session: Session, clock: FrozenClock, name: str) -> list[Problem]:
    with pytest.raises(InvalidPlaybook) as caught:
        import_playbook(db_session, ACTOR, raw(name), clock=clock)
    assert db_session.scalar(select(func.count()).select_from(Playbook)) == 0
    return caught.value.problems


def step(key: str) -> str:
    return f"$.workflow['{key}']"


@pytest.mark.parametrize("name", ["soarca-manual-playbook", "soarca-assignment-playbook"])
def test_valid_documents_of_other_tools_import_and_export_verbatim(
    db_session: Session, clock: FrozenClock, name: str
) -> None:
    imported = import_playbook(db_session, ACTOR, raw(name), clock=clock)
    assert imported.created and imported.playbook.current
    exported = export_playbook(db_session, imported.playbook)
    assert exported.encode("utf-8") == raw(name)
    again = find_version(db_session, json.loads(exported)["id"])
    assert again.id == imported.playbook.id
    assert find_version(db_session, str(imported.playbook.id)) == again


def test_the_manual_example_keeps_its_one_schema_deviation(
    db_session: Session, clock: FrozenClock
) -> None:
    """SOARCA's manual example gives an external reference without a ``name`` (required by
    the OASIS schema): reference metadata Vigie does not use, so it imports, unchanged."""
    doc = json.loads(raw("soarca-manual-playbook"))
    assert validate(doc) == []
    assert oasis_problems(doc) == ["$.external_references[0]: 'name' is a required property"]
    playbook = import_playbook(db_session, ACTOR, raw("soarca-manual-playbook"), clock=clock)
    assert playbook.playbook.phase == Phase.BEFORE  # notification only
    assert playbook.playbook.name == "Example manual"


def test_an_http_api_example_needs_its_endpoint(db_session: Session, clock: FrozenClock) -> None:
    doc = json.loads(raw("soarca-assignment-playbook"))
    assert oasis_problems(doc) == [] and validate(doc) == []
    for target in doc["target_definitions"].values():
        del target["address"]
    problems = validate(doc)
    assert {p.path for p in problems} == {
        step("action--4551c3d2-8e0d-47c5-9270-328194047a2b") + ".agent",
        step("action--44a5ed3d-b5f0-4fbc-ac9d-2c044d99debf") + ".agent",
    }
    assert {p.message for p in problems} == {
        "an http-api command needs an agent or a target of type http-api with an address"
    }


@pytest.mark.parametrize(
    ("name", "kind", "actions"),
    [
        ("soarca-ssh-playbook", "ssh", ["action--eb9372d4-d524-49fc-bf24-be26ea084779",
                                        "action--88f4c4df-fa96-44e6-b310-1c06d193ea55"]),
        ("soarca-caldera-flow-control", "caldera-cmd",
         ["action--623a0a80-a4ac-4989-b1da-5e3660b2e4f1",
          "action--3ad2d927-9480-4d05-bcbb-7d40b4da2266"]),
        ("oasis-basic-example-1", "ssh", ["action--6398eb05-3eb8-43f5-87d3-f24e07492a41"]),
    ],
)  # fmt: skip
def test_commands_vigie_does_not_run_are_refused_with_the_reason(
    db_session: Session, clock: FrozenClock, name: str, kind: str, actions: list[str]
) -> None:
    """Otherwise valid (the OASIS schemas accept them; the caldera one's if/while/switch flow
    with branches ending in their own end steps passes every workflow check)."""
    assert oasis_problems(json.loads(raw(name))) == []
    message = f"Vigie does not run {kind} commands: only manual, http-api and x-vigie"
    expected = [Problem(step(key) + ".commands[0].type", message) for key in actions]
    assert refusal(db_session, clock, name) == expected


def test_the_oasis_example_with_typos_is_refused_with_each_problem(
    db_session: Session, clock: FrozenClock
) -> None:
    act = step("action--6398eb05-3eb8-43f5-87d3-f24e07492a41")
    assert [str(p) for p in refusal(db_session, clock, "oasis-basic-example-a-2-1")] == [
        "$.agents: unknown property (did you mean 'agent_definitions'?)",
        "$.targets: unknown property (did you mean 'target_definitions'?)",
        f"{act}['on-completion']: unknown property (did you mean 'on_completion'?)",
        f"{act}.agent: 'individual--75baba7d-a198-4c5c-805c-af616b4f7a31' is not a key of "
        "agent_definitions",
        f"{act}.targets[0]: 'security-category--3c1daf98-7e22-4e0c-bb8c-6bd78159ca5d' is not a "
        "key of target_definitions",
        f"{act}.commands[0].type: Vigie does not run ssh commands: only manual, http-api and "
        "x-vigie",
        f"{step('end--116cdac5-63f1-4d8f-b3a8-e5667936e9b6')}: not reachable from workflow_start",
        f"{step('start--fa16a4e9-e6b9-4658-b464-ca1632ff57f4')}: no end step is reachable from "
        "this step",
        f"{act}: no end step is reachable from this step",
    ]


def test_soarcas_invalid_test_playbook_is_refused_with_every_problem(
    db_session: Session, clock: FrozenClock
) -> None:
    problems = refusal(db_session, clock, "soarca-invalid-playbook")
    actions = ["action--a76dbc32-b739-427b-ae13-4ec703d5797e",
               "action--9fcc5c3b-0b70-4d73-b922-cf5491dcd1a4",
               "action--09b97fab-56a1-45dc-a88f-be3cde3eac33",
               "action--2190f685-1857-44ac-ad0e-0ded6c6ef3ce"]  # fmt: skip
    paths = [p.path for p in problems]
    for key in actions:  # "GET http://…" (no path) towards an agent of type "invalid"
        assert step(key) + ".commands[0].command" in paths
        assert step(key) + ".agent" in paths
    assert "$.workflow_start" in paths and "$.workflow_exception" in paths
    assert len(problems) == 10


def test_a_request_line_without_a_path_is_refused(db_session: Session, clock: FrozenClock) -> None:
    """SOARCA's http example writes ``GET get HTTP1.1``: not an HTTP request line."""
    [problem] = refusal(db_session, clock, "soarca-http-playbook")
    assert (
        problem.path
        == step("action--eb9372d4-d524-49fc-bf24-be26ea084779") + ".commands[0].command"
    )
    assert problem.message.startswith("must be an HTTP request line")


def test_the_specifications_excerpt_is_not_json(db_session: Session, clock: FrozenClock) -> None:
    [problem] = refusal(db_session, clock, "oasis-spec-3.1-example")
    assert problem == Problem(
        "$", "not JSON: Expecting property name enclosed in double quotes (line 84, column 28)"
    )


def test_vigies_exports_validate_against_the_oasis_schemas(
    db_session: Session, clock: FrozenClock
) -> None:
    docs = [
        document(),
        document(types=("detection",), commands=[
            {"type": "x-vigie", "command": "exposure-check", "arguments": {"notify": True}},
            {"type": "manual", "command": "Review the hits of __today__:value"},
        ]),
    ]  # fmt: skip
    for doc in docs:
        playbook = import_playbook(db_session, ACTOR, text(doc), clock=clock).playbook
        exported = export_playbook(db_session, playbook)
        assert exported == text(doc)
        assert oasis_problems(json.loads(exported)) == []
