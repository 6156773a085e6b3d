"""The built-in playbook library (playbooks.library.builtin): every document, in every language,
valid under the OASIS CACAO 2.0 schemas and Vigie's import; x-vigie commands from the
vocabulary; variables declared; translations complete; ``cert playbooks load-builtin`` and
``cert demo`` idempotent."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cert.cli import cli, load_commands
from core.audit import AuditEntry
from core.clock import FrozenClock
from core.commands import CliContext
from core.config import Config
from core.identity.authz import Actor
from playbooks import demo
from playbooks.library import builtin
from playbooks.library.builtin_load import load_builtin
from playbooks.library.services import current_version, document_of, import_playbook
from playbooks.models import Phase, Playbook, PlaybookSchedule, PlaybookTrigger, TriggerEvent
from playbooks.rules.cacao import CONTEXT_VARIABLES, VARIABLE_REFERENCE, phase_of
from playbooks.rules.cron import next_fire
from playbooks.rules.validate import validate
from playbooks.rules.vocabulary import ACTIONS
from tests.dbs import TestDatabase
from tests.kit.world import World
from tests.playbooks.oasis import oasis_problems

SYSTEM = Actor.system("test")
RSIT = json.loads((Path(__file__).resolve().parents[2] / "incidents/data/rsit.json").read_text())
KEYS = {"ransomware", "phishing", "defacement", "ddos", "compromised-account", "data-leak",
        "vulnerable-service", "exposure-check", "contact-review", "deadline-reminders",
        "sla-watch"}  # fmt: skip
BEFORE = {"exposure-check", "contact-review", "deadline-reminders", "sla-watch"}
ARABIC = re.compile(r"[\u0600-\u06ff]")
JSON_TYPES = {"string": str, "integer": int, "boolean": bool, "list": list}
load_commands()  # ``cert playbooks`` and ``cert demo`` come from the manifests


def all_documents() -> Iterator[tuple[str, builtin.BuiltinPlaybook]]:
    for language in builtin.LANGUAGES:
        for item in builtin.documents(language):
            yield language, item


def commands(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for step_id, step in document["workflow"].items():
        for command in step.get("commands", []):
            yield step_id, step, command


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def branch_end(workflow: dict[str, Any], root: str) -> str:
    """The one end step of the branch starting at ``root`` (nested branches skipped: a control
    step goes on at its on_completion)."""
    seen, todo, ends = set(), [root], set()
    while todo:
        step_id = todo.pop()
        if step_id in seen:
            continue
        seen.add(step_id)
        step = workflow[step_id]
        if step["type"] == "end":
            ends.add(step_id)
        todo += [step[k] for k in ("on_completion", "on_success", "on_failure") if k in step]
    assert len(ends) == 1, (root, ends)
    return ends.pop()


def test_the_library_holds_the_eleven_playbooks() -> None:
    assert set(builtin.playbook_keys()) == KEYS
    for language in builtin.LANGUAGES:
        rendered = builtin.documents(language)
        assert [b.key for b in rendered] == builtin.playbook_keys()
        assert len({b.cacao_id for b in rendered}) == len(KEYS)
        assert len({b.document["name"] for b in rendered}) == len(KEYS)
    with pytest.raises(builtin.BuiltinError, match="unknown language"):
        builtin.documents("de")


@pytest.mark.parametrize("language", builtin.LANGUAGES)
def test_every_document_validates_against_the_oasis_schemas_and_vigie(language: str) -> None:
    for item in builtin.documents(language):
        assert oasis_problems(item.document) == [], item.key
        assert validate(item.document) == [], item.key
        # what import stores is the same document
        assert json.loads(item.text()) == item.document


def test_the_oasis_check_reads_the_builtin_documents() -> None:
    broken = builtin.documents("en")[0].document
    start = broken["workflow_start"]
    broken["workflow"][start]["type"] = "begin"
    broken["markings"] = ["tlp-clear"]
    assert len(oasis_problems(broken)) >= 2


def test_documents_are_cacao_shaped_as_a_cert_writes_them() -> None:
    for _language, item in all_documents():
        doc = item.document
        workflow = doc["workflow"]
        assert workflow[doc["workflow_start"]]["type"] == "start"
        targets: list[str] = []
        for step in workflow.values():
            keys = ("on_completion", "on_success", "on_failure", "on_true", "on_false")
            # a step may go to the same place whether it succeeds or fails
            targets += sorted({step[key] for key in keys if key in step})
            targets += step.get("next_steps", [])
            if step["type"] == "action":
                assert step["agent"] in doc["agent_definitions"]
                assert set(step.get("targets", [])) <= set(doc.get("target_definitions", {}))
        assert set(targets) <= set(workflow), item.key
        roots = [workflow[doc["workflow_start"]]["on_completion"]] + [
            root
            for step in workflow.values()
            for root in [step.get("on_true"), step.get("on_false"), *step.get("next_steps", [])]
            if root
        ]
        ends = [branch_end(workflow, root) for root in roots]
        assert len(ends) == len(set(ends)), f"{item.key}: every branch ends in its own end step"
        assert set(workflow) == set(targets) | {doc["workflow_start"]}, "every step is reached"
        used = {c.get("playbook_activity") for _, _, c in commands(doc)} - {None}
        assert set(doc["playbook_activities"]) == used
        agents = {a["type"] for a in doc["agent_definitions"].values()}
        assert agents == {"group", "security-category"}
        [marking] = doc["data_marking_definitions"].values()
        assert marking["tlpv2_level"] == "TLP:CLEAR" and doc["markings"] == [marking["id"]]
        assert doc["created_by"].startswith("identity--") and doc["created"] <= doc["modified"]
        phase = "before" if item.key in BEFORE else "after"
        assert phase_of(doc["playbook_types"]) == phase, item.key
        if phase == "after":
            assert any(s["type"] == "parallel" for s in workflow.values()), item.key
            assert any(c["type"] == "manual" for _, _, c in commands(doc)), item.key
        assert any(s["type"] == "if-condition" for s in workflow.values()), item.key


def test_commands_are_manual_tasks_or_vocabulary_actions_with_their_arguments() -> None:
    for _language, item in all_documents():
        for step_id, step, command in commands(item.document):
            where = f"{item.key} {step_id}"
            assert command["type"] in ("manual", "x-vigie"), where
            if command["type"] == "manual":
                title = command["command"]
                assert 20 <= len(title) <= 300 and title == title.strip(), where
                assert not title.endswith("."), where
                continue
            action = ACTIONS[command["command"]]
            arguments = command["arguments"]
            assert set(arguments) <= set(action.args), f"{where}: unknown argument"
            for name, arg in action.args.items():
                if arg.required:
                    assert name in arguments, f"{where}: {name} missing"
                if name in arguments:
                    assert isinstance(arguments[name], JSON_TYPES[arg.type]), where
            outputs = set(action.outputs)
            assert set(step.get("out_args", [])) <= outputs | {
                o for c in step["commands"] for o in ACTIONS[c["command"]].outputs
            }, where


def test_every_variable_reference_names_a_known_variable() -> None:
    for _language, item in all_documents():
        doc = item.document
        declared = set(doc.get("playbook_variables", {}))
        outputs = {o for _, _, c in commands(doc) if c["type"] == "x-vigie"
                   for o in ACTIONS[c["command"]].outputs}  # fmt: skip
        known = declared | CONTEXT_VARIABLES | outputs
        seen = set()
        for text in strings(doc["workflow"]):
            for match in VARIABLE_REFERENCE.finditer(text):
                assert match.group("cacao") in known, f"{item.key}: {match.group(0)}"
                seen.add(match.group("cacao"))
        for step in doc["workflow"].values():
            assert set(step.get("out_args", [])) <= known
            if step["type"] == "if-condition":
                names = [m.group("cacao") for m in VARIABLE_REFERENCE.finditer(step["condition"])]
                assert names and set(names) <= declared | CONTEXT_VARIABLES | outputs
                read = [n for n in names if n not in CONTEXT_VARIABLES]
                setters = {n for s in doc["workflow"].values() for n in s.get("out_args", [])}
                assert set(read) <= setters, f"{item.key}: a condition reads an unset output"
        assert declared <= seen, f"{item.key}: a declared variable is never used"


def test_translations_are_complete_in_french_english_and_arabic() -> None:
    for key in builtin.playbook_keys():
        data = builtin.raw(key)
        used = set(builtin.text_keys(data["playbook"]))
        texts = data["texts"]
        assert set(texts) == set(builtin.LANGUAGES)
        for language in builtin.LANGUAGES:
            assert set(texts[language]) == used, f"{key} {language}: missing or unused texts"
        for text_key in used:
            en, fr, ar = (texts[lang][text_key] for lang in ("en", "fr", "ar"))
            assert en.strip() and fr.strip() and ar.strip(), f"{key} {text_key}"
            assert fr != en, f"{key} {text_key}: English left in the French text"
            assert ar != en and ARABIC.search(ar), f"{key} {text_key}: no Arabic"
            refs = [set(VARIABLE_REFERENCE.findall(t)) for t in (en, fr, ar)]
            assert refs[0] == refs[1] == refs[2], f"{key} {text_key}: variables differ"
        rendered = json.dumps(builtin.load(key, "ar").document, ensure_ascii=False)
        assert '"@' not in rendered


def test_a_language_is_a_rendering_of_the_same_playbook() -> None:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for _language, item in all_documents():
        by_key.setdefault(item.key, []).append(item.document)
    for key, docs in by_key.items():
        shapes = [json.dumps(builtin.raw(key)["playbook"], sort_keys=True)] * len(docs)
        assert len({d["id"] for d in docs}) == 1 and len({d["modified"] for d in docs}) == 1
        assert len({tuple(d["workflow"]) for d in docs}) == 1, key
        assert len({d["name"] for d in docs}) == 3, key
        assert len(set(shapes)) == 1


def test_default_triggers_and_schedules_are_valid() -> None:
    classes = {c["id"]: {t["id"] for t in c["types"]} for c in RSIT}
    for item in builtin.documents("en"):
        if item.key in BEFORE:
            assert item.schedules and not item.triggers, item.key
        else:
            assert item.triggers and not item.schedules, item.key
        for trigger in item.triggers:
            TriggerEvent(trigger.event)
            categories = trigger.conditions.get("categories", [])
            assert categories and set(categories) <= set(classes), item.key
            allowed = set().union(*(classes[c] for c in categories))
            assert set(trigger.conditions.get("types", [])) <= allowed, item.key
        for schedule in item.schedules:
            next_fire(schedule.cron, schedule.timezone, FrozenClock().now())
    ransomware = builtin.load("ransomware").triggers[0]
    assert ransomware.conditions == {"categories": ["malicious-code"], "types": ["infected-system"]}
    # the exposure check's own incidents (class vulnerable, no type) do not start it
    vulnerable = builtin.load("vulnerable-service").triggers
    assert [t.event for t in vulnerable] == ["created", "classified"]  # on arrival, or by hand
    assert all(set(t.conditions["types"]) == classes["vulnerable"] for t in vulnerable)
    crons = {b.key: b.schedules[0].cron for b in builtin.documents("fr") if b.schedules}
    assert crons["exposure-check"] == "0 7 * * *" and crons["sla-watch"] == "*/15 * * * *"


def _rows(session: Session) -> tuple[int, int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Playbook)) or 0,
        session.scalar(select(func.count()).select_from(PlaybookTrigger)) or 0,
        session.scalar(select(func.count()).select_from(PlaybookSchedule)) or 0,
        session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
    )


@pytest.mark.parametrize("language", builtin.LANGUAGES)
def test_load_builtin_imports_every_playbook_once_with_its_defaults(
    db_session: Session, clock: FrozenClock, language: str
) -> None:
    loaded = load_builtin(db_session, SYSTEM, clock=clock, language=language, timezone="UTC")
    assert {item.outcome for item in loaded} == {"imported"}
    rows = _rows(db_session)
    assert rows[:3] == (11, 14, 4)
    for item in builtin.documents(language):
        playbook = current_version(db_session, item.cacao_id)
        assert playbook is not None and playbook.builtin == item.key and playbook.enabled
        assert document_of(playbook) == item.document
        assert playbook.phase == (Phase.BEFORE if item.key in BEFORE else Phase.AFTER)
    for schedule in db_session.scalars(select(PlaybookSchedule)):
        assert schedule.timezone == "UTC" and schedule.organisation_ids is None  # no CERT yet
        assert schedule.next_fire_at is not None and schedule.next_fire_at > clock.now()
    again = load_builtin(db_session, SYSTEM, clock=clock, language=language, timezone="UTC")
    assert {item.outcome for item in again} == {"unchanged"}
    assert {(i.triggers, i.schedules) for i in again} == {(0, 0)}
    assert _rows(db_session) == rows


def test_the_sla_watch_runs_once_per_slot_for_the_cert(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    cert = world.cert  # the CERT's own organisation exists before the load
    load_builtin(db_session, SYSTEM, clock=clock)
    scoped = {s.cacao_id: s.organisation_ids for s in db_session.scalars(select(PlaybookSchedule))}
    sla = builtin.load("sla-watch").cacao_id
    assert scoped.pop(sla) == [cert.id]  # it reads every incident: once, not per ministry
    assert set(scoped.values()) == {None}  # the others: every organisation


def test_another_language_keeps_the_loaded_version(db_session: Session, clock: FrozenClock) -> None:
    load_builtin(db_session, SYSTEM, clock=clock, language="ar")
    rows = _rows(db_session)
    other = load_builtin(db_session, SYSTEM, clock=clock, language="fr")
    assert {item.outcome for item in other} == {"kept (loaded in ar)"}
    assert _rows(db_session) == rows
    playbook = current_version(db_session, builtin.load("ddos").cacao_id)
    assert playbook is not None and playbook.name == builtin.load("ddos", "ar").document["name"]


def test_a_newer_builtin_version_becomes_current_and_keeps_its_triggers(
    db_session: Session, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_builtin(db_session, SYSTEM, clock=clock)
    original = builtin.raw

    def newer(key: str) -> dict[str, Any]:
        data = original(key)
        if key == "phishing":
            data["playbook"]["modified"] = "2027-01-15T09:00:00.000Z"
            data["texts"]["fr"]["name"] = "Campagne d'hameçonnage (v2)"
        return data

    monkeypatch.setattr(builtin, "raw", newer)
    loaded = {item.key: item for item in load_builtin(db_session, SYSTEM, clock=clock)}
    assert loaded["phishing"].outcome == "imported"
    assert {i.outcome for k, i in loaded.items() if k != "phishing"} == {"unchanged"}
    current = current_version(db_session, loaded["phishing"].cacao_id)
    assert current is not None and current.name == "Campagne d'hameçonnage (v2)"
    versions = db_session.scalars(
        select(Playbook).where(Playbook.cacao_id == loaded["phishing"].cacao_id)
    ).all()
    assert len(versions) == 2 and sum(v.current for v in versions) == 1
    assert _rows(db_session)[1:3] == (14, 4)


def test_a_cert_version_newer_than_the_builtin_one_stays_current(
    db_session: Session, clock: FrozenClock
) -> None:
    own = builtin.load("ddos").document
    own.update(modified="2027-03-01T10:00:00.000Z", name="DDoS (version du CERT)")
    import_playbook(db_session, SYSTEM, builtin.document_text(own), clock=clock)
    loaded = {item.key: item for item in load_builtin(db_session, SYSTEM, clock=clock)}
    assert loaded["ddos"].outcome == "kept (a newer version is current)"
    current = current_version(db_session, own["id"])
    assert current is not None and current.name == "DDoS (version du CERT)"
    assert loaded["ddos"].triggers == 2  # its default triggers all the same


def test_cert_playbooks_load_builtin_and_cert_demo(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
    }
    first = CliRunner().invoke(cli, ["playbooks", "load-builtin", "--language", "en"], env=env,
                               obj=CliContext())  # fmt: skip
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert len(lines) == 11 and all(": imported playbook--" in line for line in lines)
    assert any(line.startswith("ransomware: imported") and "Ransomware, 2 trigger(s)" in line
               for line in lines)  # fmt: skip
    demo_run = CliRunner().invoke(cli, ["demo"], env=env, obj=CliContext())
    assert demo_run.exit_code == 0, demo_run.output
    assert "built-in playbooks: 11 in the library, 0 imported" in demo_run.output
    refused = CliRunner().invoke(cli, ["playbooks", "load-builtin", "--language", "de"], env=env,
                                 obj=CliContext())  # fmt: skip
    assert refused.exit_code == 2


def test_cert_demo_seeds_the_library_in_french(db_session: Session, clock: FrozenClock) -> None:
    summary = demo.seed(db_session, SYSTEM, clock, Config())
    assert summary == (
        "built-in playbooks: 11 in the library, 11 imported, 14 trigger(s) and 4 schedule(s)"
        " created"
    )
    ransomware = current_version(db_session, builtin.load("ransomware").cacao_id)
    assert ransomware is not None and ransomware.name == "Rançongiciel"
    assert demo.seed(db_session, SYSTEM, clock, Config()) == (
        "built-in playbooks: 11 in the library, 0 imported, 0 trigger(s) and 0 schedule(s) created"
    )
