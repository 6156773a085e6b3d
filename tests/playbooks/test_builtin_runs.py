"""The built-in playbooks run end to end on the real engine, actions, triggers and schedules
(issue 19's "done when": a ransomware report starts the ransomware playbook by itself and its
manual steps appear as tasks). Those land from their branches at merge: until then this module
is skipped."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

runner = pytest.importorskip("playbooks.engine.runner")
firing = pytest.importorskip("playbooks.automation.firing")
pytest.importorskip("playbooks.automation.triggers")
pytest.importorskip("playbooks.actions.exposure")

from cert import event_handlers  # noqa: E402
from core.clock import FrozenClock  # noqa: E402
from core.events import deliver_events  # noqa: E402
from core.identity.authz import Actor  # noqa: E402
from incidents.models import Incident, IncidentTask, Priority  # noqa: E402
from incidents.workspace.tasks import complete_task  # noqa: E402
from playbooks.library import builtin  # noqa: E402
from playbooks.library.builtin_load import load_builtin  # noqa: E402
from playbooks.models import PlaybookRun, PlaybookStepRun, RunStatus, StepStatus  # noqa: E402
from playbooks.settings import PlaybookSettings  # noqa: E402
from tests.kit import intel  # noqa: E402
from tests.kit.events import slice_settings  # noqa: E402
from tests.kit.factories import INFECTED_HOST, report  # noqa: E402
from tests.kit.factories import SETTINGS as INTAKE  # noqa: E402
from tests.kit.world import World  # noqa: E402

SYSTEM = Actor.system("test")
SETTINGS = PlaybookSettings(intake=INTAKE)  # the actions' intake settings land at merge


def cycle(session: Session, factory: sessionmaker[Session], clock: FrozenClock) -> None:
    """Commit, then what the scheduler does: deliver events, advance runs, deliver again."""
    session.commit()
    deliver_events(factory, event_handlers.HANDLERS, clock=clock, settings=slice_settings())
    runner.advance_due_runs(factory, clock=clock, settings=SETTINGS)
    deliver_events(factory, event_handlers.HANDLERS, clock=clock, settings=slice_settings())
    session.expire_all()


def drive(
    session: Session, factory: sessionmaker[Session], clock: FrozenClock, world: World,
    incident: Incident,
) -> tuple[PlaybookRun, list[str]]:  # fmt: skip
    """Run the incident's playbook to its end, doing each task as it appears; the task titles."""
    analyst, titles = Actor.for_user(world.analyst), list[str]()
    for _ in range(40):
        cycle(session, factory, clock)
        [run] = session.scalars(select(PlaybookRun)).all()
        if run.status.finished:
            return run, titles
        tasks = session.scalars(
            select(IncidentTask).where(
                IncidentTask.incident_id == incident.id, IncidentTask.done_at.is_(None)
            )
        ).all()
        assert tasks, "a waiting run waits for a task"
        for task in tasks:
            titles.append(task.title)
            complete_task(session, analyst, task, clock=clock)
    raise AssertionError("the run did not finish")


def test_a_ransomware_report_runs_the_ransomware_playbook_with_its_tasks(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    load_builtin(db_session, SYSTEM, clock=clock, language="fr")
    incident = report(db_session, clock, world.reporter, INFECTED_HOST)
    run, titles = drive(db_session, session_factory, clock, world, incident)
    assert run.status == RunStatus.COMPLETED and run.playbook.builtin == "ransomware"
    assert db_session.get(Incident, incident.id).priority == Priority.P1  # type: ignore[union-attr]
    data = builtin.raw("ransomware")["texts"]["fr"]
    expected = [data[k] for k in ("isolate.task", "memory.task", "lessons.task")]
    assert set(expected) <= set(titles)
    assert titles[0] == data["reach.task"]  # the ministry has no contact address in the world
    steps = db_session.scalars(select(PlaybookStepRun).order_by(PlaybookStepRun.seq)).all()
    assert [s.step_type for s in steps].count("parallel") == 1
    assert {s.status for s in steps} == {StepStatus.COMPLETED, StepStatus.FAILED}


def test_a_report_classified_as_ransomware_by_an_analyst_starts_the_playbook_once(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    """Most reports arrive unclassified: the analyst's classification starts the playbook (its
    ``classified`` trigger); a later reclassification does not start it a second time."""
    from incidents.workspace import workflow  # noqa: PLC0415

    load_builtin(db_session, SYSTEM, clock=clock, language="fr")
    body: dict[str, Any] = dict(INFECTED_HOST, category="other", type="undetermined")
    incident = report(db_session, clock, world.reporter, body)
    cycle(db_session, session_factory, clock)
    assert db_session.scalars(select(PlaybookRun)).all() == []
    analyst = Actor.for_user(world.analyst)
    workflow.reclassify(db_session, analyst, incident, "malicious-code", "infected-system",
                        clock=clock)  # fmt: skip
    cycle(db_session, session_factory, clock)
    [run] = db_session.scalars(select(PlaybookRun)).all()
    assert run.playbook.builtin == "ransomware" and run.incident_id == incident.id
    workflow.reclassify(db_session, analyst, incident, "malicious-code", "infected-system",
                        clock=clock)  # fmt: skip
    cycle(db_session, session_factory, clock)
    assert len(db_session.scalars(select(PlaybookRun)).all()) == 1


@pytest.mark.parametrize(
    "key",
    ["phishing", "defacement", "ddos", "compromised-account", "data-leak", "vulnerable-service"],
)
def test_each_after_incident_playbook_starts_and_completes(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock,
    world: World, key: str,
) -> None:  # fmt: skip
    load_builtin(db_session, SYSTEM, clock=clock, language="ar")
    world.interieur.contact_emails = ["soc@interieur.gov.ma"]
    trigger = builtin.load(key).triggers[0]  # created (classified has the same conditions)
    body: dict[str, Any] = dict(INFECTED_HOST, category=trigger.conditions["categories"][0],
                                type=trigger.conditions["types"][0])  # fmt: skip
    incident = report(db_session, clock, world.reporter, body)
    run, titles = drive(db_session, session_factory, clock, world, incident)
    assert run.status == RunStatus.COMPLETED and run.playbook.builtin == key, run.error
    texts = builtin.raw(key)["texts"]["ar"]
    assert titles and texts["reach.task"] not in titles  # the ministry was e-mailed
    assert set(titles) <= {v for k, v in texts.items() if k.endswith(".task")}


def test_the_schedules_run_the_before_incident_playbooks(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    cert = world.cert
    world.interieur.contact_emails = ["soc@interieur.gov.ma"]
    load_builtin(db_session, SYSTEM, clock=clock, language="en")
    db_session.commit()
    clock.advance(days=40)
    firing.fire_due_schedules(session_factory, clock=clock, settings=SETTINGS)
    for _ in range(3):
        cycle(db_session, session_factory, clock)
    runs = db_session.scalars(select(PlaybookRun)).all()
    assert {r.status for r in runs} == {RunStatus.COMPLETED}
    by_key: dict[str | None, set[int | None]] = {}
    for r in runs:
        by_key.setdefault(r.playbook.builtin, set()).add(r.organisation_id)
    assert by_key["sla-watch"] == {cert.id}  # once, for the CERT
    assert world.interieur.id in by_key["exposure-check"] & by_key["contact-review"]
    ran = {s.name for s in db_session.scalars(select(PlaybookStepRun))}
    texts = {k: builtin.raw(k)["texts"]["en"] for k in ("sla-watch", "exposure-check")}
    assert texts["sla-watch"]["overload"] not in ran  # no incident past its SLA: no alarm
    assert texts["exposure-check"]["notify"] not in ran  # nothing new: no e-mail
    assert texts["sla-watch"]["watch"] in ran


def test_known_indicators_request_an_alert_bulletin(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    intel.indicator(db_session, "domain", "webmail-interieur.com")  # the phishing site
    load_builtin(db_session, SYSTEM, clock=clock, language="fr")
    world.interieur.contact_emails = ["soc@interieur.gov.ma"]
    incident = report(db_session, clock, world.reporter)  # the phishing campaign
    run, _titles = drive(db_session, session_factory, clock, world, incident)
    assert run.status == RunStatus.COMPLETED and run.playbook.builtin == "phishing"
    steps = {s.name: s for s in db_session.scalars(select(PlaybookStepRun))}
    data = builtin.raw("phishing")["texts"]["fr"]
    assert steps[data["match"]].outputs["__matches__"] > 0
    assert steps[data["known"]].outputs == {"holds": True}
    assert steps[data["bulletin"]].status == StepStatus.COMPLETED
    assert "bulletin requested" in (steps[data["bulletin"]].result or "")


def test_the_exposure_check_run_on_demand_opens_an_incident_for_an_exposed_ministry(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    """Issue 19's done-when, end to end: the built-in exposure check, run on demand by a lead,
    opens an incident for the organisation whose registered domain is in the indicator index
    (with the hit, its contacts e-mailed once) — and nothing for an organisation not exposed."""
    from sqlalchemy import func  # noqa: PLC0415

    from core.auth import organisations as orgs  # noqa: PLC0415
    from core.identity.models import AssetKind  # noqa: PLC0415
    from core.outbox import OutboxMessage  # noqa: PLC0415
    from incidents.models import IncidentObservable  # noqa: PLC0415
    from playbooks.models import PlaybookSchedule  # noqa: PLC0415

    admin = Actor.for_user(world.admin)
    interieur, sante = world.interieur, world.sante
    interieur.contact_emails, sante.contact_emails = ["soc@interieur.gov.ma"], ["soc@sante.gov.ma"]
    orgs.add_asset(db_session, admin, interieur, kind=AssetKind.DOMAIN, value="interieur.gov.ma",
                   clock=clock)  # fmt: skip
    orgs.add_asset(db_session, admin, sante, kind=AssetKind.DOMAIN, value="sante.gov.ma",
                   clock=clock)  # fmt: skip
    intel.indicator(db_session, "domain", "vpn.interieur.gov.ma", name="Phishing kit")
    load_builtin(db_session, SYSTEM, clock=clock, language="fr")
    cacao_id = builtin.load("exposure-check").cacao_id
    schedule = db_session.scalars(
        select(PlaybookSchedule).where(PlaybookSchedule.cacao_id == cacao_id)
    ).one()
    schedule.organisation_ids = [interieur.id, sante.id]
    started = firing.run_schedule_now(db_session, Actor.for_user(world.lead), schedule,
                                      clock=clock, settings=SETTINGS)  # fmt: skip
    assert {r.organisation_id for r in started} == {interieur.id, sante.id}
    for _ in range(3):
        cycle(db_session, session_factory, clock)
    runs = db_session.scalars(select(PlaybookRun)).all()
    assert {r.status for r in runs} == {RunStatus.COMPLETED}, [r.error for r in runs]
    [opened] = db_session.scalars(select(Incident)).all()
    assert opened.organisation_id == interieur.id
    values = db_session.scalars(
        select(IncidentObservable.value).where(IncidentObservable.incident_id == opened.id)
    ).all()
    assert "vpn.interieur.gov.ma" in values
    to = db_session.scalars(select(OutboxMessage.to_addr)).all()
    assert to.count("soc@interieur.gov.ma") == 1 and "soc@sante.gov.ma" not in to
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 1
