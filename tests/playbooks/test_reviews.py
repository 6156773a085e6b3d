"""The review actions of before-incident playbooks: contact review, regulatory deadline
reminders, SLA watch — each called as the engine calls it, on the real database and outbox."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from cert.cli import cli, load_commands
from core.clock import FrozenClock
from core.db import make_session_factory
from core.identity.authz import Actor
from core.uow import transaction
from incidents.models import IncidentStatus
from playbooks.actions.reviews import confirm_contacts
from playbooks.models import ContactConfirmation
from tests.dbs import TestDatabase
from tests.kit.factories import MINIMAL, report
from tests.kit.world import World
from tests.playbooks.checks_kit import execute, mails

SYSTEM = Actor.system("test")


def test_contact_review_asks_the_contacts_not_confirmed_lately(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    interieur = world.interieur
    interieur.contact_emails = ["soc@interieur.gov.ma", "rssi@interieur.gov.ma"]
    world.sante.contact_emails = ["soc@sante.gov.ma"]
    done = confirm_contacts(db_session, SYSTEM, interieur, ["SOC@interieur.gov.ma ", "x@y.ma"],
                            clock=clock)  # fmt: skip
    assert done == ["soc@interieur.gov.ma"]  # not a contact: not recorded

    outcome, _ = execute(db_session, clock, interieur, "contact-review")
    assert outcome.ok and outcome.outputs["__unconfirmed_contacts__"] == ["rssi@interieur.gov.ma"]
    [message] = mails(db_session)
    assert message.to_addr == "rssi@interieur.gov.ma"
    assert "soc@interieur.gov.ma" in (message.text_body or "")  # the list to confirm
    assert "sante" not in (message.text_body or "")

    clock.advance(days=40)
    recent, _ = execute(db_session, clock, interieur, "contact-review", max_age_days=30)
    assert recent.outputs["__unconfirmed_contacts__"] == [
        "soc@interieur.gov.ma",
        "rssi@interieur.gov.ma",
    ]
    assert len(mails(db_session)) == 3
    bad, _ = execute(db_session, clock, interieur, "contact-review", max_age_days="soon")
    assert not bad.ok and "arguments.max_age_days" in (bad.error or "")


def test_deadline_reminders_tell_the_contacts_and_the_assignee(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    interieur = world.interieur
    interieur.contact_emails = ["soc@interieur.gov.ma"]
    analyst = world.analyst
    significant = report(db_session, clock, world.reporter, MINIMAL, significant=True,
                         state={"assignee_id": analyst.id})  # fmt: skip
    report(db_session, clock, world.reporter, MINIMAL)  # no regulatory deadline
    closed = report(db_session, clock, world.reporter, MINIMAL, significant=True,
                    state={"status": IncidentStatus.CLOSED})  # fmt: skip
    report(db_session, clock, world.other_reporter, MINIMAL, significant=True)  # another org
    assert significant.early_warning_due_at is not None and closed.early_warning_due_at

    outcome, _ = execute(db_session, clock, interieur, "deadline-reminders")
    assert outcome.ok, outcome.error
    [reminder] = outcome.outputs["__reminder_lines__"]
    assert reminder.startswith(significant.reference) and "early warning" in reminder
    sent = {m.to_addr: m for m in mails(db_session) if m.related_type is None}
    assert set(sent) == {"soc@interieur.gov.ma", analyst.email}
    assert significant.reference in (sent[analyst.email].text_body or "")
    assert closed.reference not in (sent[analyst.email].text_body or "")

    # two days later the 72-hour notification is due within a day; the early warning is past
    clock.advance(hours=50)
    later, _ = execute(db_session, clock, interieur, "deadline-reminders", hours_before=24)
    assert [r.split(" ")[0] for r in later.outputs["__reminder_lines__"]] == [significant.reference]
    assert "notification" in later.outputs["__reminder_lines__"][0]
    none, _ = execute(db_session, clock, interieur, "deadline-reminders", hours_before=1)
    assert none.outputs["__reminder_lines__"] == []


def test_sla_watch_sends_the_leads_one_message_listing_the_breaches(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    lead = world.lead
    late = report(db_session, clock, world.reporter, MINIMAL)  # P3: acknowledge within 24 h
    clock.advance(hours=23, minutes=30)
    near = report(db_session, clock, world.other_reporter, MINIMAL, impact="critical",
                  urgency="critical")  # fmt: skip  # P1: acknowledge within an hour
    clock.advance(minutes=50)  # past the P3's acknowledgement; 9 minutes before the P1's
    outcome, _ = execute(db_session, clock, None, "sla-watch")
    assert outcome.ok, outcome.error
    listed = outcome.outputs["__breach_lines__"]
    assert any(x.startswith(late.reference) and "breached" in x for x in listed)
    assert any(x.startswith(near.reference) and "due_soon" in x for x in listed)
    [message] = [m for m in mails(db_session) if m.to_addr == lead.email]
    assert late.reference in (message.text_body or "") and near.reference in (
        message.text_body or ""
    )
    assert message.tlp == "TLP:AMBER"
    clock.advance(days=3)  # both far past: older than the watch's look-back
    quiet, _ = execute(db_session, clock, None, "sla-watch", within_minutes=5)
    assert [x for x in quiet.outputs["__breach_lines__"] if "acknowledgement" in x] == []


def test_cert_playbooks_confirm_contacts(fresh_database: TestDatabase, tmp_path: Path) -> None:
    load_commands()
    clock = FrozenClock()
    factory = make_session_factory(fresh_database.engine)
    with transaction(factory) as session:
        org = World(session, clock).interieur
        org.contact_emails = ["soc@interieur.gov.ma"]
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
    }
    args = ["playbooks", "confirm-contacts", "min-interieur", "SOC@interieur.gov.ma", "x@y.ma"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert "confirmed 1 contact(s)" in result.output and "x@y.ma" in result.output
    with transaction(factory) as session:
        [row] = session.scalars(select(ContactConfirmation)).all()
        assert row.email == "soc@interieur.gov.ma"
    unknown = CliRunner().invoke(cli, ["playbooks", "confirm-contacts", "nope", "a@b.ma"], env=env)
    assert unknown.exit_code != 0
