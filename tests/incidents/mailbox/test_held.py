"""The held-mail queue's use cases (:mod:`incidents.mailbox.held`), on both databases: the list
(newest first, keyset pages, by status and reason), the open count, and the analysts' decisions —
each audited and recorded on the message, refused the second time (``Conflict``), refused to
non-staff, never half-written when the input is bad; two analysts deciding at once leave one
decision."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.identity.authz import Actor
from incidents.mailbox import held, store
from incidents.mailbox.models import HoldReason, InboundMail, MailStatus
from incidents.models import Incident
from incidents.settings import IntakeSettings
from tests.incidents.mailbox.held_scene import (
    audited,
    decide_at_once,
    held_mail,
    mail_settings,
    raw_message,
)
from tests.kit.factories import report
from tests.kit.world import World


@pytest.fixture
def settings(tmp_path: Path) -> IntakeSettings:  # type: ignore[override]
    return mail_settings(tmp_path / "uploads")


def test_the_list_is_newest_first_in_keyset_pages_by_status_and_reason(
    db_session: Session, clock: FrozenClock, world: World, settings: IntakeSettings
) -> None:
    actor = world.actor(world.analyst)
    made = [
        held_mail(db_session, clock, settings, raw_message(subject=f"n°{i}"),
                  reason=HoldReason.AUTO_REPLY if i % 2 else HoldReason.UNKNOWN_SENDER)
        for i in range(5)
    ]  # fmt: skip
    failed = held_mail(db_session, clock, settings, status=MailStatus.FAILED, error="boom")
    done = held_mail(db_session, clock, settings, status=MailStatus.DISCARDED)
    first = held.list_mails(db_session, actor, statuses=(MailStatus.HELD,), limit=2)
    assert [m.id for m in first.mails] == [made[4].id, made[3].id]
    second = held.list_mails(
        db_session, actor, statuses=(MailStatus.HELD,), limit=2, before_id=first.next_before_id
    )
    assert [m.id for m in second.mails] == [made[2].id, made[1].id]
    last = held.list_mails(
        db_session, actor, statuses=(MailStatus.HELD,), limit=2, before_id=second.next_before_id
    )
    assert [m.id for m in last.mails] == [made[0].id] and last.next_before_id is None
    autos = held.list_mails(db_session, actor, statuses=(MailStatus.HELD,),
                            reason=HoldReason.AUTO_REPLY)  # fmt: skip
    assert [m.id for m in autos.mails] == [made[3].id, made[1].id]
    open_ones = held.list_mails(db_session, actor)  # held and failed, by default
    assert open_ones.mails[0].id == failed.id and done.id not in {m.id for m in open_ones.mails}
    assert held.count_open(db_session, actor) == 6


@pytest.mark.parametrize("who", ["reporter", "anonymous contact"])
def test_non_staff_see_nothing(
    db_session: Session, clock: FrozenClock, world: World, settings: IntakeSettings, who: str
) -> None:
    mail = held_mail(db_session, clock, settings)
    actor = (
        world.actor(world.reporter)
        if who == "reporter"
        else Actor.contact("nadia@unknown.example", world.interieur.id)
    )
    with pytest.raises(PermissionDenied):
        held.list_mails(db_session, actor)
    with pytest.raises(PermissionDenied):
        held.count_open(db_session, actor)
    with pytest.raises(PermissionDenied):
        held.get_mail(db_session, actor, mail.id)
    with pytest.raises(PermissionDenied):
        held.discard(db_session, actor, mail, note=None, clock=clock)
    assert mail.status is MailStatus.HELD


def test_discard_is_recorded_audited_and_refused_twice(
    db_session: Session, clock: FrozenClock, world: World, settings: IntakeSettings
) -> None:
    mail = held_mail(db_session, clock, settings)
    actor = world.actor(world.analyst)
    held.discard(db_session, actor, mail, note="  Publicité  ", clock=clock)
    assert mail.status is MailStatus.DISCARDED
    assert (mail.handled_by_id, mail.handled_at) == (world.analyst.id, clock.now())
    assert mail.handling_note == "Publicité"
    [entry] = audited(db_session, "mail.discard")
    assert (entry.object_type, entry.object_id) == ("inbound_mail", str(mail.id))
    assert entry.actor_id == world.analyst.id
    assert entry.before == {"status": "held"}
    assert entry.after == {"status": "discarded", "incident": None, "note": "Publicité"}
    with pytest.raises(Conflict, match="handled already"):
        held.discard(db_session, world.actor(world.lead), mail, note=None, clock=clock)
    assert len(audited(db_session, "mail.discard")) == 1
    assert mail.handled_by_id == world.analyst.id


def test_a_failed_message_may_be_discarded_but_not_made_an_incident(
    db_session: Session, clock: FrozenClock, world: World, settings: IntakeSettings
) -> None:
    mail = held_mail(db_session, clock, settings, status=MailStatus.FAILED, error="boom")
    actor = world.actor(world.analyst)
    with pytest.raises(Conflict, match="reprocess it first"):
        held.make_incident(
            db_session, actor, mail, organisation=world.interieur.slug, title=None, tlp=None,
            note=None, clock=clock, settings=settings,
        )  # fmt: skip
    with pytest.raises(Conflict, match="reprocess it first"):
        held.attach_to_incident(
            db_session, actor, mail, reference="MACERT-2026-000001", note=None, clock=clock,
            settings=settings,
        )  # fmt: skip
    held.discard(db_session, actor, mail, note=None, clock=clock)
    assert mail.status is MailStatus.DISCARDED


def test_bad_input_names_the_field_and_changes_nothing(
    db_session: Session, clock: FrozenClock, world: World, settings: IntakeSettings
) -> None:
    mail = held_mail(db_session, clock, settings)  # from nadia@unknown.example
    actor = world.actor(world.analyst)

    def make(**changes: object) -> ValidationFailed:
        args: dict[str, object] = {"organisation": world.interieur.slug, "title": None,
                                   "tlp": None, "note": None, **changes}  # fmt: skip
        with pytest.raises(ValidationFailed) as caught:
            held.make_incident(db_session, actor, mail, clock=clock, settings=settings, **args)  # type: ignore[arg-type]
        return caught.value

    assert set(make(organisation="").fields) == {"organisation"}
    assert set(make(organisation="min-nowhere").fields) == {"organisation"}
    assert set(make(organisation=world.cert.slug).fields) == {"organisation"}
    # no acknowledgement to an address that is not the organisation's (no backscatter)
    assert set(make(acknowledge=True).fields) == {"acknowledge"}
    assert set(make(note="x" * 501).fields) == {"note"}
    with pytest.raises(ValidationFailed) as caught:
        held.attach_to_incident(db_session, actor, mail, reference="MACERT-2026-999999",
                                note=None, clock=clock, settings=settings)  # fmt: skip
    assert set(caught.value.fields) == {"reference"}
    with pytest.raises(ValidationFailed) as caught:
        held.attach_to_incident(db_session, actor, mail, reference="  ", note=None,
                                clock=clock, settings=settings)  # fmt: skip
    assert set(caught.value.fields) == {"reference"}
    assert mail.status is MailStatus.HELD and mail.handled_by_id is None
    assert not audited(db_session, "mail.incident") and not audited(db_session, "mail.reply")


def test_contacts_and_users_of_an_organisation_are_its_senders(
    db_session: Session, world: World
) -> None:
    org = world.interieur
    org.contact_emails = ["SOC@interieur.gov.ma"]
    world.sante.contact_emails = ["soc@interieur.gov.ma"]
    db_session.flush()
    both = {org.id, world.sante.id}
    assert held.sender_organisations(db_session, "soc@interieur.gov.ma") == both
    assert held.sender_organisations(db_session, world.reporter.email) == {org.id}
    assert held.sender_organisations(db_session, world.other_reporter.email) == {world.sante.id}
    assert held.sender_organisations(db_session, world.analyst.email) == set()  # CERT staff
    assert held.sender_organisations(db_session, "nadia@unknown.example") == set()
    assert held.sender_organisations(db_session, None) == set()


def test_the_suggested_title_drops_reply_and_forward_markers() -> None:
    assert held.clean_subject("RE: TR: Fwd: Hameçonnage", "MACERT") == "Hameçonnage"
    assert held.clean_subject("رد: تصيد احتيالي", "MACERT") == "تصيد احتيالي"
    assert held.clean_subject(None, "MACERT") == ""
    assert held.clean_subject("Re: [MACERT-2026-000042] Suite", "MACERT") == "Suite"


@dataclass(frozen=True)
class Race:
    actors: list[Actor]  # two analysts
    mail_id: int  # a held message, committed
    organisation: str  # a ministry's slug, for an incident


@pytest.fixture
def race(factory: sessionmaker[Session], clock: FrozenClock, settings: IntakeSettings) -> Race:
    """Two analysts and a held message, committed: what two threads then decide on at once."""
    with factory() as session:
        world = World(session, clock)
        actors = [world.actor(world.analyst), world.actor(world.analyst2)]
        found = Race(actors, held_mail(session, clock, settings).id, world.interieur.slug)
        session.commit()
    return found


def test_two_analysts_at_once_leave_one_decision(
    factory: sessionmaker[Session], clock: FrozenClock, race: Race
) -> None:
    def discard(session: Session, actor: Actor, mail: InboundMail) -> str:
        held.discard(session, actor, mail, note=f"n°{race.actors.index(actor)}", clock=clock)
        return "done"

    outcomes = decide_at_once(factory, clock, race.actors, race.mail_id, discard)
    assert sorted(outcomes) == ["conflict", "done"]
    with factory() as session:
        assert len(audited(session, "mail.discard")) == 1
        assert session.get_one(InboundMail, race.mail_id).status is MailStatus.DISCARDED


def test_the_queue_counts_the_files_of_each_message(
    db_session: Session, clock: FrozenClock, settings: IntakeSettings
) -> None:
    forwarded = b"From: a@example.test\r\nSubject: suspect\r\n\r\nhttp://evil.example/\r\n"
    two = held_mail(db_session, clock, settings, raw_message(files=(
        ("facture.pdf", b"%PDF-1.4" + b"0" * 5000, "application/pdf"),
        ("original.eml", forwarded, "message/rfc822"),
    )))  # fmt: skip
    none = held_mail(db_session, clock, settings, raw_message(
        body="Pas de pièce jointe ; le mot Content-Disposition: attachment au fil du texte.\n"
    ))  # fmt: skip
    huge = held_mail(db_session, clock, settings, size=settings.mail.max_bytes + 1)
    counts = store.attachment_counts([two, none, huge], settings)
    assert counts == {two.id: 2, none.id: 0}  # beyond the limit: not read


def test_two_analysts_making_an_incident_at_once_make_one(
    factory: sessionmaker[Session], clock: FrozenClock, settings: IntakeSettings, race: Race
) -> None:
    def make_incident(session: Session, actor: Actor, mail: InboundMail) -> str:
        return held.make_incident(
            session, actor, mail, organisation=race.organisation, title=None, tlp=None,
            note=None, clock=clock, settings=settings,
        ).reference  # fmt: skip

    outcomes = decide_at_once(factory, clock, race.actors, race.mail_id, make_incident)
    assert outcomes.count("conflict") == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        assert len(audited(session, "mail.incident")) == 1
        mail = session.get_one(InboundMail, race.mail_id)
        assert mail.status is MailStatus.INCIDENT and mail.incident_id is not None


def test_a_message_of_a_red_incident_is_seen_by_those_who_see_the_incident(
    db_session: Session, clock: FrozenClock, world: World, settings: IntakeSettings
) -> None:
    red = report(db_session, clock, world.reporter, tlp="TLP:RED")
    amber = report(db_session, clock, world.reporter)
    secret = held_mail(db_session, clock, settings, status=MailStatus.REPLY, incident_id=red.id)
    open_one = held_mail(db_session, clock, settings, status=MailStatus.REPLY,
                         incident_id=amber.id)  # fmt: skip
    handled = (MailStatus.REPLY,)
    analyst, lead = world.actor(world.analyst), world.actor(world.lead)
    seen = held.list_mails(db_session, analyst, statuses=handled).mails
    assert [m.id for m in seen] == [open_one.id]
    with pytest.raises(NotFound):
        held.get_mail(db_session, analyst, secret.id)
    assert len(held.list_mails(db_session, lead, statuses=handled).mails) == 2
    assert held.get_mail(db_session, lead, secret.id).id == secret.id
    # the API's total counts what the list shows: the hidden message is not even a number
    assert held.count_mails(db_session, analyst, statuses=handled) == 1
    assert held.count_mails(db_session, lead, statuses=handled) == 2
